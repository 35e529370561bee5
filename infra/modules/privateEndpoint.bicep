// One private endpoint with its private DNS zone group, so the service's public name resolves to the
// private address inside the VNet.

@description('Name of the private endpoint.')
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags object

@description('Resource ID of the service behind the endpoint.')
param targetResourceId string

@description('Sub-resource (group ID), e.g. blob or vault.')
param groupId string

@description('Subnet that receives the endpoint\'s private address.')
param subnetId string

@description('Private DNS zone linked to the VNet for this service.')
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2023-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetResourceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource dnsGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2023-11-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}
