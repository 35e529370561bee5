// Log alerts over the app's telemetry in Application Insights.
//
// Event contract (docs/operations.md "Telemetry events"): the app emits BackupSucceeded, BackupFailed,
// RestoreSucceeded and RestoreFailed, each with a cluster dimension. The usual form is a [LoggerMessage]
// whose EventName is the event name and whose template has a {Cluster} property (as
// src/EtcdServerless.Core/Backup/BackupLog.cs does): the Application Insights logger stores EventName and
// the template properties as customDimensions of a trace. An Application Insights custom event (name,
// property cluster) or a log property `event` is accepted too; the Functions host's prop__ prefix as well.
//
//  1. stale backups: a cluster with no BackupSucceeded for 2x its backup interval (per cluster,
//     including a cluster that never had one);
//  2. failed restore: any RestoreFailed.

import { clusterConfig } from '../types.bicep'

@description('Environment name, part of the rule names.')
param environmentName string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags object

@description('Resource ID of the Application Insights component the rules query.')
param appInsightsId string

@description('Clusters the app backs up (name and backupIntervalMinutes are used).')
param clusters clusterConfig[]

@description('E-mail addresses notified by the alerts; empty = rules without notification (portal only).')
param alertEmails array

var events = '''
union isfuzzy=true
  (customEvents
    | project timestamp, event = name,
        cluster = tostring(coalesce(customDimensions.Cluster, customDimensions.cluster))),
  (traces
    | extend event = tostring(coalesce(customDimensions.EventName, customDimensions.event, customDimensions['prop__event']))
    | where isnotempty(event)
    | project timestamp, event,
        cluster = tostring(coalesce(customDimensions.Cluster, customDimensions.cluster, customDimensions['prop__Cluster'], customDimensions['prop__cluster'])))
'''

// One datatable row per cluster: 'name', intervalMinutes.
var expectedRows = join(map(clusters, c => '\'${c.name}\', ${c.backupIntervalMinutes}'), ', ')

var staleQuery = '''
let expected = datatable(cluster: string, intervalMinutes: int) [ __EXPECTED__ ];
let succeeded = __EVENTS__
  | where event == 'BackupSucceeded'
  | summarize lastSuccess = max(timestamp) by cluster;
expected
| join kind=leftouter succeeded on cluster
| where isnull(lastSuccess) or lastSuccess < ago(2 * intervalMinutes * 1m)
| project cluster, intervalMinutes, lastSuccess
'''

var restoreFailedQuery = '''
__EVENTS__
| where event == 'RestoreFailed'
| project timestamp, cluster
'''

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmails)) {
  name: 'ag-etcd-backup-${environmentName}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('etcdbk${environmentName}', 12)
    enabled: true
    emailReceivers: [for (email, i) in alertEmails: {
      name: 'email-${i}'
      emailAddress: email
      useCommonAlertSchema: true
    }]
  }
}

var actions = empty(alertEmails) ? {} : {
  actionGroups: [
    actionGroup.id
  ]
}

resource staleBackup 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = if (!empty(clusters)) {
  name: 'etcd-backup-${environmentName}-stale-backup'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'etcd-backup ${environmentName}: no successful backup for 2x the schedule'
    description: 'A cluster has had no BackupSucceeded event for twice its backupIntervalMinutes (or none in the last 2 days).'
    severity: 1
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    // The look-back must cover 2x the longest interval; 2 days is the ceiling (hence backupIntervalMinutes <= 1440).
    overrideQueryTimeRange: 'P2D'
    criteria: {
      allOf: [
        {
          query: replace(replace(staleQuery, '__EVENTS__', events), '__EXPECTED__', expectedRows)
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'cluster'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: actions
  }
}

resource restoreFailed 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'etcd-backup-${environmentName}-restore-failed'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'etcd-backup ${environmentName}: restore failed'
    description: 'A RestoreFailed event was emitted for a cluster.'
    severity: 0
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: replace(restoreFailedQuery, '__EVENTS__', events)
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'cluster'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    actions: actions
  }
}
