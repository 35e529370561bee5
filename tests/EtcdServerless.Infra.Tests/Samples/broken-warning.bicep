// Deliberately wrong for infra/tools/bicep-check (BicepCheckTests): this compiles (exit code 0) but the
// linter warns (prefer-interpolation, the rule today's templates broke 21 times), and the check must fail
// on a warning as it does on an error.
@description('Azure region.')
param location string = resourceGroup().location

@description('Name prefix.')
param prefix string = 'st'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: concat(prefix, uniqueString(resourceGroup().id))
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
}
