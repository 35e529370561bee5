// Production: three-member cluster with agents for restore, 35 days immutability (locked after the
// first deployment, then immutabilityPolicyLocked = true), operator-created KEK, VNet integration with
// private endpoints, Entra authentication on the API. Values in <...> come from the pipeline's
// environment (readEnvironmentVariable), never from this file.
using './main.bicep'

param environmentName = 'prod'

param clusters = [
  {
    name: 'prod-east'
    endpoints: [
      'https://10.0.0.11:2379'
      'https://10.0.0.12:2379'
      'https://10.0.0.13:2379'
    ]
    schedule: '0 */15 * * * *'
    backupIntervalMinutes: 15
    tls: {
      caSecret: 'prod-east-ca'
      certSecret: 'prod-east-client-cert'
      keySecret: 'prod-east-client-key'
    }
    retention: {
      keepLast: 4
      hourly: 24
      daily: 7
      weekly: 4
      monthly: 6
    }
    members: [
      {
        name: 'm1'
        peerUrl: 'https://10.0.0.11:2380'
        clientUrl: 'https://10.0.0.11:2379'
        agentUrl: 'https://10.0.0.11:7443'
      }
      {
        name: 'm2'
        peerUrl: 'https://10.0.0.12:2380'
        clientUrl: 'https://10.0.0.12:2379'
        agentUrl: 'https://10.0.0.12:7443'
      }
      {
        name: 'm3'
        peerUrl: 'https://10.0.0.13:2380'
        clientUrl: 'https://10.0.0.13:2379'
        agentUrl: 'https://10.0.0.13:7443'
      }
    ]
  }
]

param backupStorageSku = 'Standard_GZRS'
param immutabilityDays = 35
param immutabilityPolicyLocked = bool(readEnvironmentVariable('ETCDBK_IMMUTABILITY_LOCKED', 'false'))
param softDeleteDays = 30
param appManagesKek = false
// 'false' only for the first deployment, before the secrets exist in the new vault (docs/operations.md).
param secretsUploaded = bool(readEnvironmentVariable('ETCDBK_SECRETS_UPLOADED', 'true'))
param kekAdminPrincipalIds = empty(readEnvironmentVariable('ETCDBK_KEK_ADMINS', '')) ? [] : split(readEnvironmentVariable('ETCDBK_KEK_ADMINS', ''), ',')
param keyVaultSku = 'standard'
param maximumInstanceCount = 40
param instanceMemoryMB = 4096
param logRetentionDays = 90
param alertEmails = empty(readEnvironmentVariable('ETCDBK_ALERT_EMAILS', '')) ? [] : split(readEnvironmentVariable('ETCDBK_ALERT_EMAILS', ''), ',')

param network = {
  enabled: true
  addressPrefix: '10.60.0.0/24'
  integrationSubnetPrefix: '10.60.0.0/26'
  privateEndpointSubnetPrefix: '10.60.0.64/27'
  privateEndpoints: true
  etcdAddressPrefixes: [
    '10.0.0.0/24'
  ]
  etcdClientPort: 2379
  agentPort: 7443
}

param restoreAgentTls = {
  certSecret: 'restore-client-cert'
  keySecret: 'restore-client-key'
  caSecret: 'agents-ca'
  timeoutSeconds: 300
}

param entraAuth = {
  enabled: true
  clientId: readEnvironmentVariable('ETCDBK_API_CLIENT_ID', '00000000-0000-0000-0000-000000000000')
  allowedAudiences: [
    'api://etcd-backup-prod'
  ]
  allowedClientApplications: empty(readEnvironmentVariable('ETCDBK_INCIDENT_CLIENT_IDS', '')) ? [] : split(readEnvironmentVariable('ETCDBK_INCIDENT_CLIENT_IDS', ''), ',')
}
