// EtcdServerless: one environment (dev, prod, ...) in one resource group.
//
//   az deployment group create -g <rg> -p infra/<env>.bicepparam   (what-if first: see docs/operations.md)
//
// Plain resource declarations rather than Azure Verified Modules (br/public:avm/...): the AVM registry and
// the Bicep compiler are both unreachable on the machine this repository is developed on, so module
// parameters could not be checked at all offline, while plain resources keep every security-relevant
// property (immutability, Shared Key off, purge protection, role data actions) visible in review and in
// tests/EtcdServerless.Infra.Tests. The layout follows the AVM/azd shape (one module per component,
// @description everywhere, uniqueString naming), so swapping a module for its AVM counterpart later is local.

targetScope = 'resourceGroup'

import { clusterConfig, entraAuthConfig, networkConfig, restoreAgentTlsConfig } from 'types.bicep'

@description('Environment name (dev, prod, ...): part of every resource name and tag.')
@minLength(2)
@maxLength(8)
param environmentName string

@description('Azure region of every regional resource.')
param location string = resourceGroup().location

@description('Extra tags merged into every resource\'s tags.')
param tags object = {}

@description('Clusters the Function App backs up, with their schedules and restore members.')
param clusters clusterConfig[]

@description('Replication SKU of the backup storage account (ZRS/GZRS recommended for production).')
param backupStorageSku string = 'Standard_ZRS'

@description('Name of the backup container (version-level WORM).')
param backupContainerName string = 'etcd-backups'

@description('Days every backup version stays immutable: the container default policy and Store__ImmutabilityDays.')
@minValue(1)
@maxValue(146000)
param immutabilityDays int = 7

@description('Store__RequireImmutability: fail a backup the store cannot confirm as immutable. See docs/operations.md before turning it off.')
param requireImmutability bool = true

@description('Set to true after the container policy has been locked (docs/operations.md); the template then no longer declares it.')
param immutabilityPolicyLocked bool = false

@description('Run the consistency-check activity after every backup (Backup__ConsistencyCheck).')
param backupConsistencyCheck bool = false

@description('Days deleted blobs, versions and containers stay recoverable.')
@minValue(1)
@maxValue(365)
param softDeleteDays int = 14

@description('Name of the Key Vault secret that holds the key-encryption key.')
param kekSecretName string = 'etcd-backup-kek'

@description('Name of the Key Vault secret that holds the HTTP API key (at least 32 characters: `etcd-backup keys api-key`). The app refuses to start without it.')
param apiKeySecretName string = 'etcd-backup-api-key'

@description('Let the app create the KEK on first run and rotate it (custom role with secrets/setSecret only). False = an operator creates it (docs/operations.md).')
param appManagesKek bool = true

@description('Let the app delete backups whose retention and immutability have expired.')
param allowRetentionDeletes bool = true

@description('False on the very first deployment of an environment whose app does not manage its KEK: the vault is new, so the secrets the app reads (KEK, TLS, passwords) cannot exist yet, and a role assignment can only be scoped to an existing secret. Upload them, then deploy again with true (docs/operations.md).')
param secretsUploaded bool = true

@description('Object IDs of KEK administrators (Key Vault Secrets Officer), e.g. an on-call group.')
param kekAdminPrincipalIds array = []

@description('Key Vault SKU.')
@allowed([
  'standard'
  'premium'
])
param keyVaultSku string = 'standard'

@description('Mutual TLS from the orchestrator to the member agents: client certificate, key and agent CA as Key Vault secrets.')
param restoreAgentTls restoreAgentTlsConfig = {}

@description('Optional VNet integration and private endpoints.')
param network networkConfig = {
  enabled: false
}

@description('Optional Microsoft Entra authentication in front of the HTTP API (in addition to function keys).')
param entraAuth entraAuthConfig = {
  enabled: false
}

@description('Maximum number of Flex Consumption instances (40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Flex Consumption instance memory in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Days Log Analytics keeps telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('E-mail addresses notified by the stale-backup and failed-restore alerts.')
param alertEmails array = []

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var allTags = union(tags, {
  application: 'etcd-backup'
  environment: environmentName
})
var deploymentContainerName = 'app-package'
var networkEnabled = network.enabled
var privateEndpoints = networkEnabled && (network.?privateEndpoints ?? false)

// Secrets of this environment's vault the app reads, by bare name (full secret URIs may point at another
// vault; whoever owns that vault grants the read there, see docs/operations.md).
var clusterSecretNames = flatten(map(clusters, c => [
  c.?tls.?caSecret ?? ''
  c.?tls.?certSecret ?? ''
  c.?tls.?keySecret ?? ''
  c.?auth.?passwordSecret ?? ''
]))
var agentSecretNames = [
  restoreAgentTls.?caSecret ?? ''
  restoreAgentTls.?certSecret ?? ''
  restoreAgentTls.?keySecret ?? ''
]
var appReadSecretNames = union(
  [kekSecretName, apiKeySecretName],
  filter(concat(clusterSecretNames, agentSecretNames), s => !empty(s) && !startsWith(s, 'https://'))
)

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-etcdbk-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: 'log-etcdbk-${environmentName}-${resourceToken}'
    appInsightsName: 'appi-etcdbk-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
    retentionInDays: logRetentionDays
  }
}

module vnet 'modules/network.bicep' = if (networkEnabled) {
  name: 'network'
  params: {
    name: 'vnet-etcdbk-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
    addressPrefix: network.?addressPrefix ?? '10.60.0.0/24'
    integrationSubnetPrefix: network.?integrationSubnetPrefix ?? '10.60.0.0/26'
    privateEndpointSubnetPrefix: network.?privateEndpointSubnetPrefix ?? '10.60.0.64/27'
    etcdAddressPrefixes: network.?etcdAddressPrefixes ?? []
    etcdClientPort: network.?etcdClientPort ?? 2379
    agentPort: network.?agentPort ?? 7443
  }
}

module hostStorage 'modules/hostStorage.bicep' = {
  name: 'hostStorage'
  params: {
    name: 'sthost${resourceToken}'
    location: location
    tags: allTags
    deploymentContainerName: deploymentContainerName
  }
}

module backupStorage 'modules/backupStorage.bicep' = {
  name: 'backupStorage'
  params: {
    name: 'stbak${resourceToken}'
    location: location
    tags: allTags
    skuName: backupStorageSku
    containerName: backupContainerName
    immutabilityDays: immutabilityDays
    immutabilityPolicyLocked: immutabilityPolicyLocked
    softDeleteDays: softDeleteDays
    privateEndpoint: privateEndpoints
    privateEndpointSubnetId: privateEndpoints ? (vnet.?outputs.privateEndpointSubnetId ?? '') : ''
    blobPrivateDnsZoneId: privateEndpoints ? (vnet.?outputs.blobPrivateDnsZoneId ?? '') : ''
  }
}

module keyVault 'modules/keyVault.bicep' = {
  name: 'keyVault'
  params: {
    // Vault names are at most 24 characters: 'kv-' + an 8-character environment + '-' + 13 would be 25.
    name: take('kv-${environmentName}-${resourceToken}', 24)
    location: location
    tags: allTags
    skuName: keyVaultSku
    privateEndpoint: privateEndpoints
    privateEndpointSubnetId: privateEndpoints ? (vnet.?outputs.privateEndpointSubnetId ?? '') : ''
    vaultPrivateDnsZoneId: privateEndpoints ? (vnet.?outputs.vaultPrivateDnsZoneId ?? '') : ''
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    environmentName: environmentName
    principalId: identity.outputs.principalId
    hostStorageName: hostStorage.outputs.name
    backupStorageName: backupStorage.outputs.name
    backupContainerName: backupStorage.outputs.containerName
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    appManagesKek: appManagesKek
    allowRetentionDeletes: allowRetentionDeletes
    kekAdminPrincipalIds: kekAdminPrincipalIds
    readSecretNames: secretsUploaded ? appReadSecretNames : []
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  // Role assignments first: the host needs its storage rights on the very first start.
  dependsOn: [
    rbac
  ]
  params: {
    planName: 'plan-etcdbk-${environmentName}-${resourceToken}'
    name: 'func-etcdbk-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    hostStorageName: hostStorage.outputs.name
    hostBlobEndpoint: hostStorage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.connectionString
    storeUri: '${backupStorage.outputs.blobEndpoint}${backupStorage.outputs.containerName}'
    immutabilityDays: immutabilityDays
    requireImmutability: requireImmutability
    keysUri: '${keyVault.outputs.vaultUri}secrets/${kekSecretName}'
    apiKeySecretName: apiKeySecretName
    vaultUri: keyVault.outputs.vaultUri
    restoreAgentTls: restoreAgentTls
    clusters: clusters
    backupConsistencyCheck: backupConsistencyCheck
    integrationSubnetId: vnet.?outputs.integrationSubnetId ?? ''
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    entraAuth: entraAuth
    taskHubName: 'EtcdBackup'
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    environmentName: environmentName
    location: location
    tags: allTags
    appInsightsId: monitoring.outputs.appInsightsId
    clusters: clusters
    alertEmails: alertEmails
  }
}

@description('Name of the Function App (deployment target).')
output functionAppName string = functionApp.outputs.name

@description('Base URL of the HTTP API.')
output apiBaseUrl string = 'https://${functionApp.outputs.defaultHostName}/api'

@description('Name of the backup storage account.')
output backupStorageAccountName string = backupStorage.outputs.name

@description('Name of the backup container (lock its immutability policy after the first deployment).')
output backupContainerName string = backupStorage.outputs.containerName

@description('Name of the Key Vault.')
output keyVaultName string = keyVault.outputs.name

@description('Secret URI of the key-encryption key (Keys__Uri).')
output kekSecretUri string = '${keyVault.outputs.vaultUri}secrets/${kekSecretName}'

@description('Client ID of the app\'s managed identity.')
output identityClientId string = identity.outputs.clientId
