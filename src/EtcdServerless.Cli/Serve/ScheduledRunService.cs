using EtcdServerless.Core.Scheduling;
using Microsoft.Extensions.Hosting;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// One NCRONTAB loop of <c>serve</c> (backups, drills): seeds each cluster's last run from the store, then sleeps until
/// the next cluster is due (<see cref="BackupScheduler"/>, at most a minute at a time so a clock change or a suspended
/// machine is noticed) and starts its run through the gateway, which joins a running one rather than stacking it.
/// </summary>
internal abstract class ScheduledRunService(BackupScheduler scheduler, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan s_maxSleep = TimeSpan.FromMinutes(1);

    /// <summary>The schedule this service follows.</summary>
    public BackupScheduler Scheduler { get; } = scheduler;

    /// <summary>When the cluster's newest run on record started (null: none), so a missed occurrence is caught up once.</summary>
    protected abstract Task<DateTimeOffset?> ReadLastRunAsync(string cluster, CancellationToken cancellationToken);

    /// <summary>Logs that the store could not tell the last run; the schedule then starts from now.</summary>
    protected abstract void OnLastRunUnavailable(string cluster, Exception exception);

    /// <summary>Starts the cluster's run and logs it.</summary>
    protected abstract Task StartRunAsync(string cluster, CancellationToken cancellationToken);

    /// <summary>Logs that a due run could not start (the loop goes on with the others).</summary>
    protected abstract void OnStartFailed(string cluster, Exception exception);

    /// <summary>Called once per cluster after seeding, with its next due time.</summary>
    protected virtual void OnNextDue(string cluster, DateTimeOffset next)
    {
    }

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var cluster in Scheduler.Clusters)
        {
            try
            {
                if (await ReadLastRunAsync(cluster, stoppingToken).ConfigureAwait(false) is { } last)
                {
                    Scheduler.SetLastRun(cluster, last);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                OnLastRunUnavailable(cluster, ex);
            }

            if (Scheduler.NextDue(cluster) is { } next)
            {
                OnNextDue(cluster, next);
            }
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var delay = Scheduler.DelayUntilNextDue();
            if (delay is null)
            {
                return;
            }

            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay.Value < s_maxSleep ? delay.Value : s_maxSleep, time, stoppingToken).ConfigureAwait(false);
                continue;
            }

            foreach (var cluster in Scheduler.TakeDue())
            {
                try
                {
                    await StartRunAsync(cluster, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    OnStartFailed(cluster, ex);
                }
            }
        }
    }

    /// <summary>The suffix the start logs add when the gateway joined a running instance.</summary>
    protected static string JoinedSuffix(bool deduplicated) => deduplicated ? " (already running: joined, not stacked)" : "";
}
