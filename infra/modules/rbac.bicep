// Least-privilege role assignments of the app's identity (and of optional KEK administrators).
//
// Backup container: a custom role, assigned at the container scope, with exactly the data actions the
// backup store uses: read, write (Put Block / Put Block List), tags read/write, find by tags, and (for
// retention, optional) delete of blobs and of blob versions whose retention has expired. Left out on
// purpose:
//   - .../blobs/immutableStorage/runAsSuperUser/action: the single permission behind both Set and Delete
//     Blob Immutability Policy (and legal hold on versions). Holding it would let the app shorten or
//     remove an unlocked per-version policy, so the app never gets it; every version inherits the
//     container's default policy instead.
//   - .../blobs/permanentDelete/action, .../blobs/runAsSuperUser/action, move, ownership, ACL actions.
//   - every management-plane write (containers/write, immutabilityPolicies/*): the app cannot change the
//     container, its WORM setting or its default policy.
// Built-in roles do not fit: Storage Blob Data Contributor lacks nothing we need but adds move, ACL and
// owner-style actions; Storage Blob Data Owner includes immutableStorage/runAsSuperUser.
// Azure itself refuses to delete or overwrite a version under an active retention policy, whatever
// role the caller has, so even the delete actions cannot touch an immutable version.
//
// Key Vault: Key Vault Secrets User (read), assigned on exactly the secrets the app reads (readSecretNames:
// the KEK, each cluster's TLS and password secrets, the restore agents' TLS secrets), not on the vault.
// A role assignment can only be scoped to a secret that exists, so those secrets are created before the
// deployment (docs/operations.md). Exception: when the app creates and rotates the KEK itself
// (appManagesKek, dev), the KEK does not exist before the app's first run, so the read is vault-wide; the
// app then also holds a custom role with only secrets/setSecret/action (a new version) on the vault; Key
// Vault Secrets Officer would also allow delete, purge, backup and restore of secrets.
//
// Host storage: the Functions host and Durable Functions need blob (leases, deployment package), queue
// and table data rights; this account holds no backups.

@description('Environment name, part of the custom role names (unique per tenant).')
param environmentName string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

@description('Name of the host storage account.')
param hostStorageName string

@description('Name of the backup storage account.')
param backupStorageName string

@description('Name of the backup container.')
param backupContainerName string

@description('Name of the Key Vault.')
param keyVaultName string

@description('Name of the Application Insights component.')
param appInsightsName string

@description('Let the app create the first KEK version and rotate it (adds secrets/setSecret/action).')
param appManagesKek bool

@description('Let the app delete backups whose retention has expired (retention runs in the app).')
param allowRetentionDeletes bool

@description('Object IDs of people or groups that administer the KEK (Key Vault Secrets Officer).')
param kekAdminPrincipalIds array

@description('Names of the secrets in this vault the app reads (KEK, TLS material, passwords); each gets its own read assignment unless appManagesKek.')
param readSecretNames string[]

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

var blobPrefix = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs'

var backupWriterDataActions = concat(
  [
    '${blobPrefix}/read'
    '${blobPrefix}/write'
    '${blobPrefix}/tags/read'
    '${blobPrefix}/tags/write'
    '${blobPrefix}/filter/action'
  ],
  allowRetentionDeletes ? [
    '${blobPrefix}/delete'
    '${blobPrefix}/deleteBlobVersion/action'
  ] : []
)

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

resource backupStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: backupStorageName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource container 'containers' existing = {
      name: backupContainerName
    }
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource backupWriterRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, environmentName, 'etcd-backup-blob-writer')
  properties: {
    roleName: 'etcd-backup blob writer (${environmentName}, ${resourceGroup().name})'
    description: 'Create, read and tag etcd backup blobs; delete only what retention allows. Cannot set, shorten or delete immutability policies or legal holds.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/read'
        ]
        notActions: []
        dataActions: backupWriterDataActions
        notDataActions: []
      }
    ]
  }
}

resource kekWriterRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (appManagesKek) {
  name: guid(resourceGroup().id, environmentName, 'etcd-backup-kek-writer')
  properties: {
    roleName: 'etcd-backup KEK version writer (${environmentName}, ${resourceGroup().name})'
    description: 'Add new versions of Key Vault secrets (KEK creation and rotation). No delete, purge, backup or restore.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.KeyVault/vaults/secrets/setSecret/action'
          'Microsoft.KeyVault/vaults/secrets/readMetadata/action'
        ]
        notDataActions: []
      }
    ]
  }
}

resource backupWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: backupStorage::blobService::container
  name: guid(backupStorage::blobService::container.id, principalId, backupWriterRole.id)
  properties: {
    roleDefinitionId: backupWriterRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource hostBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: hostStorage
  name: guid(hostStorage.id, principalId, roles.storageBlobDataOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource hostQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: hostStorage
  name: guid(hostStorage.id, principalId, roles.storageQueueDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource hostTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: hostStorage
  name: guid(hostStorage.id, principalId, roles.storageTableDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource readableSecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = [
  for secretName in readSecretNames: {
    parent: vault
    name: secretName
  }
]

resource secretReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (secretName, i) in readSecretNames: if (!appManagesKek) {
    scope: readableSecrets[i]
    name: guid(vault.id, secretName, principalId, roles.keyVaultSecretsUser)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (appManagesKek) {
  scope: vault
  name: guid(vault.id, principalId, roles.keyVaultSecretsUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource kekWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (appManagesKek) {
  scope: vault
  name: guid(vault.id, principalId, 'etcd-backup-kek-writer')
  properties: {
    roleDefinitionId: kekWriterRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource kekAdmins 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for admin in kekAdminPrincipalIds: {
  scope: vault
  name: guid(vault.id, admin, roles.keyVaultSecretsOfficer)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: admin
  }
}]

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: appInsights
  name: guid(appInsights.id, principalId, roles.monitoringMetricsPublisher)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
