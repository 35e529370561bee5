// Deliberately broken for infra/tools/bicep-check (BicepCheckTests): the compiler must report an error
// here (BCP057, an undefined symbol), and the check must fail on it.
@description('Azure region.')
param location string = resourceGroup().location

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stbroken${uniqueString(resourceGroup().id)}'
  location: location
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
}
