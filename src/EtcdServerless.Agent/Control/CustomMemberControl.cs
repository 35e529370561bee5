using EtcdServerless.Agent.Configuration;
using EtcdServerless.Core.Members;

namespace EtcdServerless.Agent.Control;

/// <summary>User-given shell commands for stop, start and status.</summary>
internal sealed class CustomMemberControl(CustomControlOptions options, TimeSpan timeout) : IMemberControl
{
    public string Mode => "custom";

    public async Task<bool> IsRunningAsync(CancellationToken cancellationToken = default)
    {
        var result = await ExternalCommand.RunShellAsync(options.StatusCommand, timeout, cancellationToken).ConfigureAwait(false);
        return result.Succeeded;
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => RunAsync("stop", options.StopCommand, cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken = default) => RunAsync("start", options.StartCommand, cancellationToken);

    private async Task RunAsync(string verb, string command, CancellationToken cancellationToken)
    {
        var result = await ExternalCommand.RunShellAsync(command, timeout, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"The custom {verb} command failed (exit {result.ExitCode}): {result.LastLine()}");
        }
    }
}
