// Log alerts over the app's telemetry in Application Insights.
//
// Event contract (docs/operations.md "Telemetry events"): the app emits BackupSucceeded, BackupFailed,
// RestoreSucceeded and RestoreFailed, each with a cluster dimension. The usual form is a [LoggerMessage]
// whose EventName is the event name and whose template has a {Cluster} property (as
// src/EtcdServerless.Core/Backup/BackupLog.cs does): the Application Insights logger stores EventName and
// the template properties as customDimensions of a trace. An Application Insights custom event (name,
// property cluster) or a log property `event` is accepted too; the Functions host's prop__ prefix as well.
//
// Metric contract (docs/operations.md "Watch freshness"): the app exports the meter EtcdServerless to Application
// Insights (customMetrics, dimension cluster): etcd_backup.last_success_timestamp (unix s, gauge),
// etcd_backup.failures (counter), etcd_backup.drill.last_passed (1/0 gauge), among others. The names are the
// constants of src/EtcdServerless.Core/Monitoring/BackupMetrics.cs (the infra tests compare them).
//
//  1. stale backups: a cluster with neither a BackupSucceeded event nor a last-success timestamp newer than 2x its
//     backup interval (per cluster, including a cluster that never had one);
//  2. failed backup: etcd_backup.failures counted, or a BackupFailed event;
//  3. failed restore: any RestoreFailed;
//  4. failed drill: the newest drill of a cluster failed (etcd_backup.drill.last_passed = 0, fed by the app's
//     FreshnessMonitor from the drill records), or a DrillFailed event;
//  5. delta lag (clusters with deltasInterval only): the newest delta segment
//     (etcd_backup.delta.last_capture_timestamp, fed by the FreshnessMonitor from the store) is older than the
//     cluster's deltaLagAlertMinutes (default 15): continuous protection has stopped or fallen behind.

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
let succeeded = union isfuzzy=true
  (__EVENTS__
    | where event == 'BackupSucceeded'
    | project cluster, lastSuccess = timestamp),
  (customMetrics
    | where name == 'etcd_backup.last_success_timestamp'
    | project cluster = tostring(customDimensions.cluster), lastSuccess = unixtime_seconds_todatetime(value))
  | summarize lastSuccess = max(lastSuccess) by cluster;
expected
| join kind=leftouter succeeded on cluster
| where isnull(lastSuccess) or lastSuccess < ago(2 * intervalMinutes * 1m)
| project cluster, intervalMinutes, lastSuccess
'''

// One datatable row per cluster with continuous protection: 'name', alert threshold in minutes.
var deltaClusters = filter(clusters, c => !empty(c.?deltasInterval ?? ''))
var deltaRows = join(map(deltaClusters, c => '\'${c.name}\', ${c.?deltaLagAlertMinutes ?? 15}'), ', ')

var deltaLagQuery = '''
let expected = datatable(cluster: string, lagMinutes: int) [ __EXPECTED__ ];
let captured = customMetrics
  | where name == 'etcd_backup.delta.last_capture_timestamp'
  | project cluster = tostring(customDimensions.cluster), lastCapture = unixtime_seconds_todatetime(value)
  | summarize lastCapture = max(lastCapture) by cluster;
expected
| join kind=leftouter captured on cluster
| where isnull(lastCapture) or lastCapture < ago(lagMinutes * 1m)
| project cluster, lagMinutes, lastCapture
'''

var backupFailedQuery = '''
union isfuzzy=true
  (customMetrics
    | where name == 'etcd_backup.failures' and valueSum > 0
    | project timestamp, cluster = tostring(customDimensions.cluster)),
  (__EVENTS__
    | where event == 'BackupFailed'
    | project timestamp, cluster)
'''

var drillFailedQuery = '''
union isfuzzy=true
  (customMetrics
    | where name == 'etcd_backup.drill.last_passed'
    | summarize arg_max(timestamp, value) by cluster = tostring(customDimensions.cluster)
    | where value == 0
    | project timestamp, cluster),
  (__EVENTS__
    | where event == 'DrillFailed'
    | project timestamp, cluster)
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

resource backupFailed 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'etcd-backup-${environmentName}-backup-failed'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'etcd-backup ${environmentName}: backup failed'
    description: 'A backup failed (etcd_backup.failures counted or a BackupFailed event); backup status shows the reason.'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: replace(backupFailedQuery, '__EVENTS__', events)
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

resource drillFailed 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'etcd-backup-${environmentName}-drill-failed'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'etcd-backup ${environmentName}: restore drill failed'
    description: 'The newest restore drill of a cluster failed (etcd_backup.drill.last_passed = 0 or a DrillFailed event): its backup may not restore.'
    severity: 1
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: replace(drillFailedQuery, '__EVENTS__', events)
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

resource deltaLag 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = if (!empty(deltaClusters)) {
  name: 'etcd-backup-${environmentName}-delta-lag'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'etcd-backup ${environmentName}: continuous protection behind'
    description: 'The newest delta segment of a cluster with deltasInterval is older than its deltaLagAlertMinutes (default 15): the achieved RPO is worse than planned.'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    overrideQueryTimeRange: 'P1D'
    criteria: {
      allOf: [
        {
          query: replace(deltaLagQuery, '__EXPECTED__', deltaRows)
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
