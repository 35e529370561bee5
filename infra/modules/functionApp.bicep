// The Function App on Flex Consumption (FC1, Linux), .NET 10 isolated, running as the user-assigned
// identity. The deployment package lives in a blob container of the host storage account.
//
// App settings are exactly the configuration keys the code reads (EtcdBackupOptions, with `__` for `:`)
// plus the Functions host settings listed, with a reason each, in
// tests/EtcdServerless.Infra.Tests/Contract/DeploymentContract.cs. The contract test compiles every
// environment (bicep build-params + snapshot) and fails when the settings and the code drift apart, so add
// a setting here when the code gains an option (or put it on the test's documented not-deployed list).
//
// Not set, on purpose: FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION, WEBSITE_RUN_FROM_PACKAGE,
// WEBSITE_CONTENT*, WEBSITE_TIME_ZONE (deprecated or rejected on Flex; the runtime is functionAppConfig).

import { clusterConfig, entraAuthConfig, restoreAgentTlsConfig } from '../types.bicep'

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the Function App.')
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags object

@description('Resource ID of the user-assigned managed identity the app runs as.')
param identityId string

@description('Client ID of the user-assigned managed identity.')
param identityClientId string

@description('Name of the host storage account (AzureWebJobsStorage, Durable task hub).')
param hostStorageName string

@description('Blob endpoint of the host storage account, ending with a slash.')
param hostBlobEndpoint string

@description('Container of the host storage account that holds the deployment package.')
param deploymentContainerName string

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('Store URI: https://<account>.blob.core.windows.net/<container>.')
param storeUri string

@description('Days each artifact stays immutable; equal to the container default policy.')
param immutabilityDays int

@description('Fail a backup the store cannot confirm as immutable.')
param requireImmutability bool

@description('Keys URI: https://<vault>.vault.azure.net/secrets/<kek secret name>.')
param keysUri string

@description('Key Vault secret (name in this vault, or a full secret URI) holding the HTTP API key.')
param apiKeySecretName string

@description('Vault URI (ending with a slash) against which bare secret names in cluster TLS/auth settings resolve.')
param vaultUri string

@description('Mutual TLS from the orchestrator to the member agents (Restore section).')
param restoreAgentTls restoreAgentTlsConfig

@description('Clusters to back up.')
param clusters clusterConfig[]

@description('Backup__ConsistencyCheck, read by the Functions composition: run the consistency-check activity after each backup.')
param backupConsistencyCheck bool

@description('Subnet for VNet integration; empty for none.')
param integrationSubnetId string

@description('Maximum number of instances (40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Instance memory in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Optional Microsoft Entra authentication in front of the HTTP API.')
param entraAuth entraAuthConfig

@description('Durable Functions task hub name (TASKHUB_NAME): letters and digits, starting with a letter.')
@minLength(3)
@maxLength(50)
param taskHubName string

@description('A secret given as a bare name in this environment\'s vault, or already as a full secret URI.')
func secretUri(vaultUri string, secret string) string => startsWith(secret, 'https://') ? secret : '${vaultUri}secrets/${secret}'

// Functions host and platform settings (see the test's HostSettings list for why each one exists).
var hostSettings = [
  { name: 'AzureWebJobsStorage__accountName', value: hostStorageName }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
  // host.json: extensions.durableTask.hubName = %TASKHUB_NAME% (letters and digits only), kept in the
  // AzureWebJobsStorage account above (storageProvider AzureStorage, one of the two Flex supports).
  { name: 'TASKHUB_NAME', value: taskHubName }
]

// Pipeline switches read directly by src/EtcdServerless.Functions (outside EtcdBackupOptions).
var pipelineSettings = [
  { name: 'Backup__ConsistencyCheck', value: string(backupConsistencyCheck) }
]

// EtcdBackupOptions: Store and Keys.
var storeSettings = [
  { name: 'Store__Uri', value: storeUri }
  { name: 'Store__ImmutabilityDays', value: string(immutabilityDays) }
  { name: 'Store__RequireImmutability', value: string(requireImmutability) }
  { name: 'Keys__Uri', value: keysUri }
]

// The HTTP API key (Api:ApiKey): a Key Vault reference the platform resolves with the app's identity; the
// triggers are Anonymous at the host and the shared contract checks the key (x-api-key, x-functions-key, ?code=).
var apiSettings = [
  { name: 'Api__ApiKey', value: '@Microsoft.KeyVault(SecretUri=${secretUri(vaultUri, apiKeySecretName)})' }
]

// EtcdBackupOptions: Restore (the orchestrator's client certificate for the agents).
var restoreCert = restoreAgentTls.?certSecret ?? ''
var restoreKey = restoreAgentTls.?keySecret ?? ''
var restoreCa = restoreAgentTls.?caSecret ?? ''
var restoreThumbprints = restoreAgentTls.?serverThumbprints ?? []
var restoreSettings = concat(
  [
    { name: 'Restore__AgentTls__TimeoutSeconds', value: string(restoreAgentTls.?timeoutSeconds ?? 300) }
  ],
  empty(restoreCert) ? [] : [
    { name: 'Restore__AgentTls__CertFile', value: secretUri(vaultUri, restoreCert) }
  ],
  empty(restoreKey) ? [] : [
    { name: 'Restore__AgentTls__KeyFile', value: secretUri(vaultUri, restoreKey) }
  ],
  empty(restoreCa) ? [] : [
    { name: 'Restore__AgentTls__CaFile', value: secretUri(vaultUri, restoreCa) }
  ],
  map(range(0, length(restoreThumbprints)), i => { name: 'Restore__AgentTls__ServerThumbprints__${i}', value: restoreThumbprints[i] })
)

// EtcdBackupOptions: Clusters (dictionary by name; lists indexed 0..n-1). A cluster secret is a bare name
// in this environment's vault (resolved against vaultUri) or a full secret URI.
var clusterSettings = flatten(map(clusters, c => concat(
  [
    { name: 'Clusters__${c.name}__Schedule', value: c.schedule }
    { name: 'Clusters__${c.name}__Retention__KeepLast', value: string(c.?retention.?keepLast ?? 4) }
    { name: 'Clusters__${c.name}__Retention__Hourly', value: string(c.?retention.?hourly ?? 24) }
    { name: 'Clusters__${c.name}__Retention__Daily', value: string(c.?retention.?daily ?? 7) }
    { name: 'Clusters__${c.name}__Retention__Weekly', value: string(c.?retention.?weekly ?? 4) }
    { name: 'Clusters__${c.name}__Retention__Monthly', value: string(c.?retention.?monthly ?? 6) }
  ],
  map(range(0, length(c.endpoints)), i => { name: 'Clusters__${c.name}__Endpoints__${i}', value: c.endpoints[i] }),
  empty(c.?tls.?caSecret ?? '') ? [] : [
    { name: 'Clusters__${c.name}__Tls__CaFile', value: secretUri(vaultUri, c.?tls.?caSecret ?? '') }
  ],
  empty(c.?tls.?certSecret ?? '') ? [] : [
    { name: 'Clusters__${c.name}__Tls__CertFile', value: secretUri(vaultUri, c.?tls.?certSecret ?? '') }
  ],
  empty(c.?tls.?keySecret ?? '') ? [] : [
    { name: 'Clusters__${c.name}__Tls__KeyFile', value: secretUri(vaultUri, c.?tls.?keySecret ?? '') }
  ],
  c.?auth == null ? [] : [
    { name: 'Clusters__${c.name}__Auth__Username', value: c.?auth.?username ?? '' }
    { name: 'Clusters__${c.name}__Auth__Password', value: '@Microsoft.KeyVault(SecretUri=${secretUri(vaultUri, c.?auth.?passwordSecret ?? '')})' }
  ],
  c.?drill == null ? [] : [
    { name: 'Clusters__${c.name}__Drill__Schedule', value: c.?drill.?schedule ?? '' }
    { name: 'Clusters__${c.name}__Drill__AgentUrl', value: c.?drill.?agentUrl ?? '' }
  ],
  empty(c.?bundleAgentUrl ?? '') ? [] : [
    { name: 'Clusters__${c.name}__Bundle__AgentUrl', value: c.?bundleAgentUrl ?? '' }
  ],
  empty(c.?deltasInterval ?? '') ? [] : [
    { name: 'Clusters__${c.name}__Deltas__Interval', value: c.?deltasInterval ?? '' }
  ],
  empty(c.?materializeAgentUrl ?? '') ? [] : [
    { name: 'Clusters__${c.name}__Deltas__MaterializeAgentUrl', value: c.?materializeAgentUrl ?? '' }
  ],
  flatten(map(range(0, length(c.?members ?? [])), i => [
    { name: 'Clusters__${c.name}__Members__${i}__Name', value: (c.?members ?? [])[i].name }
    { name: 'Clusters__${c.name}__Members__${i}__PeerUrl', value: (c.?members ?? [])[i].peerUrl }
    { name: 'Clusters__${c.name}__Members__${i}__ClientUrl', value: (c.?members ?? [])[i].clientUrl }
    { name: 'Clusters__${c.name}__Members__${i}__AgentUrl', value: (c.?members ?? [])[i].agentUrl }
  ]))
)))

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(integrationSubnetId) ? null : integrationSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      appSettings: concat(hostSettings, pipelineSettings, storeSettings, apiSettings, restoreSettings, clusterSettings)
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// No publishing profile passwords: deployments authenticate with Entra (az functionapp deployment / OIDC).
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (entraAuth.enabled) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: entraAuth.?clientId ?? ''
          openIdIssuer: '${environment().authentication.loginEndpoint}${subscription().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: entraAuth.?allowedAudiences ?? []
          defaultAuthorizationPolicy: {
            allowedApplications: entraAuth.?allowedClientApplications ?? []
          }
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

@description('Name of the Function App.')
output name string = site.name

@description('Default host name of the Function App.')
output defaultHostName string = site.properties.defaultHostName
