// Deliberately broken: .ci/check-infra must reject this file (unclosed object, missing value).
@description('A parameter.')
param location string = resourceGroup().location

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stbroken'
  location: location
  properties: {
    minimumTlsVersion:
  }
