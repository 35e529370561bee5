namespace EtcdServerless.Core.Orchestration;

/// <summary>
/// Retries of an activity that failed unexpectedly (threw), like Durable's <c>RetryPolicy</c>: at most
/// <see cref="MaxAttempts"/> attempts in all, waiting <see cref="FirstRetryInterval"/> times
/// <see cref="BackoffCoefficient"/>^(n-1) before retry n, capped at <see cref="MaxRetryInterval"/>.
/// Expected failures are result records and are never retried by this policy.
/// </summary>
internal sealed record ActivityRetryPolicy
{
    public ActivityRetryPolicy(int maxAttempts, TimeSpan firstRetryInterval, double backoffCoefficient = 1.0, TimeSpan? maxRetryInterval = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(firstRetryInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(backoffCoefficient, 1.0);
        MaxAttempts = maxAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = maxRetryInterval ?? TimeSpan.FromHours(1);
    }

    /// <summary>Attempts in all, the first included.</summary>
    public int MaxAttempts { get; }

    /// <summary>Wait before the first retry.</summary>
    public TimeSpan FirstRetryInterval { get; }

    /// <summary>Growth factor of the wait between retries (1 = constant).</summary>
    public double BackoffCoefficient { get; }

    /// <summary>Upper bound of one wait (default one hour, as Durable).</summary>
    public TimeSpan MaxRetryInterval { get; }

    /// <summary>The wait before retry number <paramref name="retry"/> (1-based).</summary>
    public TimeSpan DelayBeforeRetry(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var ticks = FirstRetryInterval.Ticks * Math.Pow(BackoffCoefficient, retry - 1);
        return ticks >= MaxRetryInterval.Ticks ? MaxRetryInterval : TimeSpan.FromTicks((long)ticks);
    }
}
