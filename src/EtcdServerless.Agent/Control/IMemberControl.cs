namespace EtcdServerless.Agent.Control;

/// <summary>Stops and starts the local etcd member, whatever runs it (child process, systemd, kubelet, scripts).</summary>
internal interface IMemberControl
{
    /// <summary>Short name of the mode, for reports.</summary>
    string Mode { get; }

    /// <summary>True when the member process runs (as far as the mode can tell).</summary>
    Task<bool> IsRunningAsync(CancellationToken cancellationToken = default);

    /// <summary>Stops the member and returns once it no longer runs. No-op when stopped.</summary>
    Task StopAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts the member (does not wait for health: a member alone has no quorum). No-op when running.</summary>
    Task StartAsync(CancellationToken cancellationToken = default);
}
