// Key Vault for the key-encryption key (KEK) and the etcd client secrets (TLS material, passwords).
// RBAC authorization only (no access policies), purge protection on (irreversible: a deleted KEK version
// can always be recovered while backups that need it are retained), 90 days soft-delete retention.
//
// The KEK secret itself is not declared here: a template would have to carry its value. It is created on
// the app's first run (appManagesKek = true) or by the documented operator step
// (`etcd-backup keys init` / `az keyvault secret set`), see docs/operations.md.

@description('Name of the Key Vault (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags object

@description('Key Vault SKU; premium only adds HSM-backed keys, which the secrets-based KEK does not use.')
@allowed([
  'standard'
  'premium'
])
param skuName string

@description('Put the vault behind a private endpoint and disable public network access.')
param privateEndpoint bool

@description('Subnet for the private endpoint (used when privateEndpoint is true).')
param privateEndpointSubnetId string

@description('Private DNS zone privatelink.vaultcore.azure.net (used when privateEndpoint is true).')
param vaultPrivateDnsZoneId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: skuName
    }
    enableRbacAuthorization: true
    enablePurgeProtection: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: privateEndpoint ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateEndpoint ? 'Deny' : 'Allow'
      bypass: 'None'
    }
  }
}

module endpoint 'privateEndpoint.bicep' = if (privateEndpoint) {
  name: 'pe-${name}-vault'
  params: {
    name: 'pe-${name}-vault'
    location: location
    tags: tags
    targetResourceId: vault.id
    groupId: 'vault'
    subnetId: privateEndpointSubnetId
    privateDnsZoneId: vaultPrivateDnsZoneId
  }
}

@description('Name of the vault.')
output name string = vault.name

@description('Vault URI, ending with a slash.')
output vaultUri string = vault.properties.vaultUri
