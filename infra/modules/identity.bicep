// The one identity the Function App runs as: host storage, deployment package, backup store, Key Vault,
// Key Vault references and Application Insights ingestion all use it. User-assigned, so role assignments
// exist before the app starts and survive an app re-creation.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource ID of the identity.')
output id string = identity.id

@description('Client (application) ID of the identity, for AZURE_CLIENT_ID and identity-based connections.')
output clientId string = identity.properties.clientId

@description('Object (principal) ID of the identity, for role assignments.')
output principalId string = identity.properties.principalId
