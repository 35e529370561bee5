// The backup store: a separate StorageV2 account with blob versioning and version-level WORM on the backup
// container, a default time-based retention policy applied to every new version, no Shared Key, no
// anonymous access, TLS 1.2+, and optionally a private endpoint with public network access disabled.
//
// Locking the container policy (making it irreversible) is an ARM action, not a declarable property; see
// docs/operations.md "Lock the immutability policy". Once it is locked, deploy with
// immutabilityPolicyLocked = true so this template stops declaring the policy (ARM refuses updates to a
// locked policy other than extending it).

@description('Name of the backup storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags object

@description('Replication SKU; zone- or geo-redundant for production.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
param skuName string

@description('Container that receives snapshots and manifests.')
param containerName string

@description('Days every new blob version stays immutable (container default version-level policy).')
@minValue(1)
@maxValue(146000)
param immutabilityDays int

@description('True once the container policy has been locked out of band: the template then leaves the policy alone.')
param immutabilityPolicyLocked bool

@description('Days deleted blobs and versions stay recoverable (soft delete).')
@minValue(1)
@maxValue(365)
param softDeleteDays int

@description('Put the account behind a private endpoint and disable public network access.')
param privateEndpoint bool

@description('Subnet for the private endpoint (used when privateEndpoint is true).')
param privateEndpointSubnetId string

@description('Private DNS zone privatelink.blob.<storage suffix> (used when privateEndpoint is true).')
param blobPrivateDnsZoneId string

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: privateEndpoint ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateEndpoint ? 'Deny' : 'Allow'
      bypass: 'None'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

// Version-level WORM is enabled on the container, not the account: a container can get it at creation
// once versioning is on (blobService above is its parent, so ARM orders them), whereas the account-level
// flag must be set in the same PUT that creates the account, before versioning exists.
resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
    immutableStorageWithVersioning: {
      enabled: true
    }
  }
}

resource defaultPolicy 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = if (!immutabilityPolicyLocked) {
  parent: container
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: immutabilityDays
    allowProtectedAppendWrites: false
    allowProtectedAppendWritesAll: false
  }
}

module endpoint 'privateEndpoint.bicep' = if (privateEndpoint) {
  name: 'pe-${name}-blob'
  params: {
    name: 'pe-${name}-blob'
    location: location
    tags: tags
    targetResourceId: account.id
    groupId: 'blob'
    subnetId: privateEndpointSubnetId
    privateDnsZoneId: blobPrivateDnsZoneId
  }
}

@description('Name of the backup storage account.')
output name string = account.name

@description('Name of the backup container.')
output containerName string = container.name

@description('Primary blob endpoint, ending with a slash.')
output blobEndpoint string = account.properties.primaryEndpoints.blob
