using EtcdServerless.Core.Orchestration;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Errors;

namespace EtcdServerless.Core.Restore.Activities;

/// <summary>Input of <see cref="StopOrderActivity"/>: the members about to be stopped.</summary>
internal sealed record StopOrderInput(string Cluster, IReadOnlyList<RestoreTargetMember> Members);

/// <summary>The members to stop last (the current leader), or none when it could not be told.</summary>
internal sealed record StopOrderOutput(IReadOnlyList<string> StopLast, string? Note);

/// <summary>
/// Finds the leader among the members a restore is about to stop, so it can be stopped after the others. etcd's
/// leader hands its leadership to a connected follower when it is asked to stop; when every member stops at once that
/// follower is going away too, and the leader waits out its request timeout (7 s with default settings) before it
/// exits. Followers stopped first leave it no one to hand over to, so it exits at once. Best effort: any member that
/// does not answer (or a migration to members not running yet) gives an empty answer, and all stop together as before.
/// </summary>
internal sealed class StopOrderActivity(RestoreServices services) : IActivity<StopOrderInput, StopOrderOutput>
{
    public const string ActivityName = "RestoreStopOrder";

    public string Name => ActivityName;

    public async Task<StopOrderOutput> RunAsync(StopOrderInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Members.Count < 2)
        {
            return new StopOrderOutput([], null);
        }

        var answers = await Task.WhenAll(input.Members.Select(async m =>
        {
            try
            {
                var client = new EtcdClient(services.MemberClientOptions(input.Cluster, m.ClientUrl, TimeSpan.FromSeconds(3)));
                await using (client.ConfigureAwait(false))
                {
                    var status = await client.StatusAsync(cancellationToken).ConfigureAwait(false);
                    return (m.Name, Leader: (bool?)status.IsLeader, Error: (string?)null);
                }
            }
            catch (Exception ex) when (ex is EtcdException or UriFormatException or TimeoutException)
            {
                return (m.Name, Leader: (bool?)null, Error: ex.Message);
            }
        })).ConfigureAwait(false);

        if (answers.FirstOrDefault(a => a.Leader is null) is { Name: not null } silent)
        {
            return new StopOrderOutput([], $"{silent.Name} did not answer ({silent.Error}); all members stop together");
        }

        var leaders = answers.Where(a => a.Leader == true).Select(a => a.Name).ToList();
        return leaders.Count == 1
            ? new StopOrderOutput(leaders, $"{leaders[0]} is the leader: it stops after the others")
            : new StopOrderOutput([], $"{leaders.Count} leaders seen; all members stop together");
    }
}
