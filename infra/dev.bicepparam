// Development: one small cluster, short immutability, the app creates and rotates its own KEK,
// no VNet (the dev etcd endpoint is reachable over the internet with mTLS).
using './main.bicep'

param environmentName = 'dev'

param clusters = [
  {
    name: 'dev-east'
    endpoints: [
      'https://etcd-dev.example.internal:2379'
    ]
    schedule: '0 0 * * * *'
    backupIntervalMinutes: 60
    tls: {
      caSecret: 'dev-east-ca'
      certSecret: 'dev-east-client-cert'
      keySecret: 'dev-east-client-key'
    }
    retention: {
      keepLast: 4
      hourly: 12
      daily: 3
      weekly: 0
      monthly: 0
    }
  }
]

param backupStorageSku = 'Standard_LRS'
param immutabilityDays = 1
param softDeleteDays = 7
param appManagesKek = true
param maximumInstanceCount = 40
param instanceMemoryMB = 2048
param alertEmails = []
