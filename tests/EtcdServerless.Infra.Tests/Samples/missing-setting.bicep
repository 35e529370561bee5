// Deliberately wrong sample for AppSettingsContractTests: like infra/modules/functionApp.bicep, but
// Keys__Uri and the members' AgentUrl are missing, Store__Container is a key no code reads, and
// FUNCTIONS_WORKER_RUNTIME is set although Flex rejects it. The contract check must report all four.

@description('Clusters to back up.')
param clusters array

var settings = concat([
  { name: 'AzureWebJobsStorage__accountName', value: 'sthost' }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: '00000000-0000-0000-0000-000000000000' }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: 'InstrumentationKey=0' }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
  { name: 'AZURE_CLIENT_ID', value: '00000000-0000-0000-0000-000000000000' }
  { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'dotnet-isolated' }
  { name: 'Backup__ConsistencyCheck', value: 'false' }
  { name: 'Store__Uri', value: 'https://stbak.blob.core.windows.net/etcd-backups' }
  { name: 'Store__ImmutabilityDays', value: '7' }
  { name: 'Store__RequireImmutability', value: 'true' }
  { name: 'Store__Container', value: 'etcd-backups' }
], flatten(map(clusters, c => [
  { name: 'Clusters__${c.name}__Schedule', value: c.schedule }
  { name: 'Clusters__${c.name}__Endpoints__0', value: c.endpoint }
  { name: 'Clusters__${c.name}__Tls__CaFile', value: c.ca }
  { name: 'Clusters__${c.name}__Tls__CertFile', value: c.cert }
  { name: 'Clusters__${c.name}__Tls__KeyFile', value: c.key }
  { name: 'Clusters__${c.name}__Auth__Username', value: c.user }
  { name: 'Clusters__${c.name}__Auth__Password', value: c.password }
  { name: 'Clusters__${c.name}__Retention__KeepLast', value: '4' }
  { name: 'Clusters__${c.name}__Retention__Hourly', value: '24' }
  { name: 'Clusters__${c.name}__Retention__Daily', value: '7' }
  { name: 'Clusters__${c.name}__Retention__Weekly', value: '4' }
  { name: 'Clusters__${c.name}__Retention__Monthly', value: '6' }
  { name: 'Clusters__${c.name}__Members__0__Name', value: 'm1' }
  { name: 'Clusters__${c.name}__Members__0__PeerUrl', value: 'https://10.0.0.11:2380' }
  { name: 'Clusters__${c.name}__Members__0__ClientUrl', value: 'https://10.0.0.11:2379' }
])))

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-sample'
  location: resourceGroup().location
  kind: 'functionapp,linux'
  properties: {
    siteConfig: {
      appSettings: settings
    }
  }
}
