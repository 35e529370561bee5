// Optional VNet: one subnet delegated to Microsoft.App/environments for Flex Consumption VNet integration
// (outbound to etcd members and agents over peering/VPN, and to private endpoints), one subnet for private
// endpoints, an NSG on the integration subnet that lets the app reach etcd only on the client port and the
// agents only on the agent port, and the private DNS zones for blob and vault.
//
// Peering to the etcd VNets, VPN/ExpressRoute and routes are environment-specific and stay outside this
// template (docs/operations.md "Networking").

@description('Name of the virtual network.')
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags object

@description('Address space of the VNet.')
param addressPrefix string

@description('Prefix of the integration subnet (delegated to Microsoft.App/environments).')
param integrationSubnetPrefix string

@description('Prefix of the private-endpoint subnet.')
param privateEndpointSubnetPrefix string

@description('CIDRs of the etcd members and their agents.')
param etcdAddressPrefixes array

@description('etcd client port.')
param etcdClientPort int

@description('etcd-backup-agent port.')
param agentPort int

var allowRules = empty(etcdAddressPrefixes) ? [] : [
  {
    name: 'allow-etcd-client'
    properties: {
      priority: 100
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefix: integrationSubnetPrefix
      sourcePortRange: '*'
      destinationAddressPrefixes: etcdAddressPrefixes
      destinationPortRange: string(etcdClientPort)
    }
  }
  {
    name: 'allow-etcd-agent'
    properties: {
      priority: 110
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefix: integrationSubnetPrefix
      sourcePortRange: '*'
      destinationAddressPrefixes: etcdAddressPrefixes
      destinationPortRange: string(agentPort)
    }
  }
  {
    // Anything else towards the etcd networks (peer port 2380, SSH, kubelet...) is refused.
    name: 'deny-etcd-other'
    properties: {
      priority: 120
      direction: 'Outbound'
      access: 'Deny'
      protocol: '*'
      sourceAddressPrefix: integrationSubnetPrefix
      sourcePortRange: '*'
      destinationAddressPrefixes: etcdAddressPrefixes
      destinationPortRange: '*'
    }
  }
]

resource nsg 'Microsoft.Network/networkSecurityGroups@2023-11-01' = {
  name: 'nsg-${name}-integration'
  location: location
  tags: tags
  properties: {
    securityRules: allowRules
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'integration'
        properties: {
          addressPrefix: integrationSubnetPrefix
          networkSecurityGroup: {
            id: nsg.id
          }
          delegations: [
            {
              name: 'flex'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
    ]
  }
}

resource blobZone 'Microsoft.Network/privateDnsZones@2020-06-01' = {
  name: 'privatelink.blob.${environment().suffixes.storage}'
  location: 'global'
  tags: tags
}

resource vaultZone 'Microsoft.Network/privateDnsZones@2020-06-01' = {
  name: 'privatelink.vaultcore.azure.net'
  location: 'global'
  tags: tags
}

resource blobZoneLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = {
  parent: blobZone
  name: '${name}-link'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}

resource vaultZoneLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = {
  parent: vaultZone
  name: '${name}-link'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}

@description('Resource ID of the integration subnet.')
output integrationSubnetId string = vnet.properties.subnets[0].id

@description('Resource ID of the private-endpoint subnet.')
output privateEndpointSubnetId string = vnet.properties.subnets[1].id

@description('Resource ID of the blob private DNS zone.')
output blobPrivateDnsZoneId string = blobZone.id

@description('Resource ID of the vault private DNS zone.')
output vaultPrivateDnsZoneId string = vaultZone.id
