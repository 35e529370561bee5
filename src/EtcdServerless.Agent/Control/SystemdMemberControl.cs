using EtcdServerless.Agent.Configuration;
using EtcdServerless.Core.Members;

namespace EtcdServerless.Agent.Control;

/// <summary><c>systemctl stop|start|is-active</c> on the member's unit.</summary>
internal sealed class SystemdMemberControl(SystemdOptions options, TimeSpan timeout) : IMemberControl
{
    public string Mode => "systemd";

    public async Task<bool> IsRunningAsync(CancellationToken cancellationToken = default)
    {
        var result = await ExternalCommand.RunAsync(options.SystemctlPath, ["is-active", "--quiet", options.Unit], timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.Succeeded;
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => RunAsync("stop", cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken = default) => RunAsync("start", cancellationToken);

    private async Task RunAsync(string verb, CancellationToken cancellationToken)
    {
        var result = await ExternalCommand.RunAsync(options.SystemctlPath, [verb, options.Unit], timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"systemctl {verb} {options.Unit} failed (exit {result.ExitCode}): {result.LastLine()}");
        }
    }
}
