// Every-option environment for the settings contract (Contract/AppSettingsContractTests): each optional
// feature of infra/main.bicep is on here (cluster TLS, etcd auth, members and agents, agent mutual TLS with
// a CA and pinned thumbprints, secrets by name and by full URI), so the compiled template must set every
// key the code reads. Not deployed anywhere; the test copies it beside main.bicep, hence the `using` path.
using './main.bicep'

param environmentName = 'contract'

param clusters = [
  {
    name: 'alpha'
    endpoints: [
      'https://10.1.0.11:2379'
      'https://10.1.0.12:2379'
    ]
    schedule: '0 */30 * * * *'
    backupIntervalMinutes: 30
    tls: {
      caSecret: 'alpha-ca'
      certSecret: 'alpha-client-cert'
      keySecret: 'https://kv-shared.vault.azure.net/secrets/alpha-client-key'
    }
    auth: {
      username: 'backup'
      passwordSecret: 'alpha-etcd-password'
    }
    members: [
      {
        name: 'a1'
        peerUrl: 'https://10.1.0.11:2380'
        clientUrl: 'https://10.1.0.11:2379'
        agentUrl: 'https://10.1.0.11:7443'
      }
      {
        name: 'a2'
        peerUrl: 'https://10.1.0.12:2380'
        clientUrl: 'https://10.1.0.12:2379'
        agentUrl: 'https://10.1.0.12:7443'
      }
    ]
    drill: {
      schedule: '0 30 3 * * *'
      agentUrl: 'https://10.1.0.11:7443'
    }
    bundleAgentUrl: 'https://10.1.0.11:7443'
    deltasInterval: '00:01:00'
    materializeAgentUrl: 'https://10.1.0.12:7443'
    deltaLagAlertMinutes: 10
  }
  {
    name: 'beta'
    endpoints: [
      'http://10.2.0.11:2379'
    ]
    schedule: '0 0 */6 * * *'
    backupIntervalMinutes: 360
  }
]

param restoreAgentTls = {
  certSecret: 'restore-client-cert'
  keySecret: 'restore-client-key'
  caSecret: 'agents-ca'
  serverThumbprints: [
    'AB12CD34EF56AB12CD34EF56AB12CD34EF56AB12'
  ]
  timeoutSeconds: 120
}
