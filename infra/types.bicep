// Shared parameter types. Imported by main.bicep and the modules (compile-time import, Bicep >= 0.25).

@export()
@description('TLS material for an etcd client port, as Key Vault secrets holding PEM text: a secret name in this environment\'s vault, or a full secret URI. The app reads the secret through its managed identity.')
type clusterTls = {
  @description('Secret (name or URI) of the CA bundle that signed the etcd server certificates.')
  caSecret: string?

  @description('Secret (name or URI) of the client certificate (PEM) for mutual TLS.')
  certSecret: string?

  @description('Secret (name or URI) of the client private key (PEM) for mutual TLS.')
  keySecret: string?
}

@export()
@description('etcd user authentication. The password stays in Key Vault and reaches the app as a Key Vault reference.')
type clusterAuth = {
  @description('etcd user name.')
  username: string

  @description('Key Vault secret (name in this environment\'s vault, or full URI) of the etcd password.')
  passwordSecret: string
}

@export()
@description('Retention tiers; omitted values take the application defaults (4 / 24 / 7 / 4 / 6).')
type clusterRetention = {
  @minValue(1)
  keepLast: int?
  @minValue(0)
  hourly: int?
  @minValue(0)
  daily: int?
  @minValue(0)
  weekly: int?
  @minValue(0)
  monthly: int?
}

@export()
@description('One etcd member as a restore target, with the URL of its etcd-backup-agent.')
type clusterMember = {
  @description('etcd member name (--name).')
  name: string

  @description('Peer URL (--initial-advertise-peer-urls).')
  peerUrl: string

  @description('Client URL.')
  clientUrl: string

  @description('HTTPS URL of the etcd-backup-agent beside this member.')
  agentUrl: string
}

@export()
@description('One etcd cluster the Function App backs up.')
type clusterConfig = {
  @description('Cluster name: the key under Clusters in the app configuration and the blob prefix. Letters, digits and dashes.')
  @minLength(1)
  @maxLength(63)
  name: string

  @description('Client URLs of (some of) the members; the rest are discovered with MemberList.')
  @minLength(1)
  endpoints: string[]

  @description('NCRONTAB schedule with seconds, e.g. "0 */15 * * * *". The Functions timer evaluates it in UTC (no WEBSITE_TIME_ZONE on Flex).')
  schedule: string

  @description('The schedule\'s interval in minutes. Used only by the stale-backup alert (fires after 2x this without a BackupSucceeded event). Bicep cannot evaluate NCRONTAB, so it is stated here. Max 1440 because a log alert looks back at most 2 days.')
  @minValue(1)
  @maxValue(1440)
  backupIntervalMinutes: int

  @description('TLS material by Key Vault secret; omit for plain http endpoints.')
  tls: clusterTls?

  @description('etcd user authentication; omit when etcd auth is off or client certificates are used.')
  auth: clusterAuth?

  @description('Retention policy; omit for the application defaults.')
  retention: clusterRetention?

  @description('Members and their agents, needed for restore; omit for backup-only clusters.')
  members: clusterMember[]?

  @description('Restore drills of the latest backup: NCRONTAB schedule (UTC) and the member agent that runs them (a function cannot run etcd). Omit for no scheduled drills.')
  drill: clusterDrill?

  @description('https URL of the member agent that serves the control-plane bundle stored with every backup; omit for no bundle.')
  bundleAgentUrl: string?

  @description('Continuous protection: how often a delta segment is captured, as a .NET TimeSpan (e.g. "00:01:00"). Omit for none.')
  deltasInterval: string?

  @description('https URL of the member agent that materializes point-in-time restores (a function cannot run etcd); omit to use drill.agentUrl.')
  materializeAgentUrl: string?

  @description('With deltasInterval: alert when the newest delta segment is older than this many minutes (default 15).')
  @minValue(2)
  @maxValue(1440)
  deltaLagAlertMinutes: int?
}

@export()
@description('Scheduled restore drills of one cluster.')
type clusterDrill = {
  @description('NCRONTAB schedule with seconds, UTC.')
  schedule: string

  @description('https URL of the member agent that runs the drill (mutual TLS, as restores).')
  agentUrl: string
}

@export()
@description('Optional VNet integration and private endpoints.')
type networkConfig = {
  @description('Create a VNet, integrate the Function App with it and (optionally) put Key Vault and the backup account behind private endpoints.')
  enabled: bool

  @description('Address space of the VNet, e.g. 10.60.0.0/24. Must not overlap the etcd networks it is peered or VPN-connected to.')
  addressPrefix: string?

  @description('Subnet for Flex Consumption VNet integration (delegated to Microsoft.App/environments), at least /27.')
  integrationSubnetPrefix: string?

  @description('Subnet for private endpoints.')
  privateEndpointSubnetPrefix: string?

  @description('Put the backup storage account and Key Vault behind private endpoints and disable their public network access.')
  privateEndpoints: bool?

  @description('CIDRs of the etcd members and agents (peered VNets or on-premises over VPN/ExpressRoute). The NSG allows only the etcd client port and the agent port to them.')
  etcdAddressPrefixes: string[]?

  @description('etcd client port the app connects to.')
  etcdClientPort: int?

  @description('Port of etcd-backup-agent on each member.')
  agentPort: int?
}

@export()
@description('Optional Microsoft Entra authentication (App Service Authentication) in front of every HTTP endpoint.')
type entraAuthConfig = {
  @description('Require a Microsoft Entra token on every HTTP call, in addition to the function key.')
  enabled: bool

  @description('Application (client) ID of the app registration that represents the API.')
  clientId: string?

  @description('Accepted token audiences, e.g. api://etcd-backup-prod.')
  allowedAudiences: string[]?

  @description('Client IDs of the applications (incident tooling) allowed to call the API. Empty = any app in the tenant with a token for the audience.')
  allowedClientApplications: string[]?
}

@export()
@description('How the orchestrator authenticates to the member agents (mutual TLS). Secrets are names in this environment\'s vault or full secret URIs (PEM).')
type restoreAgentTlsConfig = {
  @description('Secret holding the orchestrator\'s client certificate (PEM).')
  certSecret: string?

  @description('Secret holding the key of the client certificate (PEM).')
  keySecret: string?

  @description('Secret holding the CA bundle that issued the agents\' server certificates.')
  caSecret: string?

  @description('Pinned agent server certificate thumbprints, as an alternative to caSecret.')
  serverThumbprints: string[]?

  @description('Timeout of one agent call other than the snapshot upload, in seconds.')
  @minValue(1)
  timeoutSeconds: int?
}
