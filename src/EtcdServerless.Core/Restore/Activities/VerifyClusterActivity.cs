using EtcdServerless.Core.Orchestration;
using EtcdServerless.Etcd.Client;

namespace EtcdServerless.Core.Restore.Activities;

/// <summary>
/// Checks the restored cluster from the outside: every member answers Status, exactly one leader that all agree on,
/// the revision equals the snapshot's, a count-only Range over all keys equals the live keys of the snapshot, and
/// HashKV is equal on every member. Polls until it holds or the timeout passes (members need a moment to elect).
/// </summary>
internal sealed class VerifyClusterActivity(RestoreServices services) : IActivity<VerifyInput, RestoreVerification>
{
    public const string ActivityName = "RestoreVerifyCluster";

    public string Name => ActivityName;

    public async Task<RestoreVerification> RunAsync(VerifyInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        // The same factory as the backup (TLS from files or from Key Vault, the same username rule), with short
        // deadlines: a member that is still electing is polled again rather than waited for.
        var clients = input.Members.Select(m => (m.Name, Client: new EtcdClient(services.MemberClientOptions(input.Cluster, m.ClientUrl, TimeSpan.FromSeconds(5))))).ToList();
        try
        {
            var deadline = services.Time.GetUtcNow() + services.VerifyTimeout;
            while (true)
            {
                var result = await CheckOnceAsync(input, clients, cancellationToken).ConfigureAwait(false);
                if (result.Succeeded || services.Time.GetUtcNow() >= deadline)
                {
                    return result;
                }

                // Members elect a leader within about one election timeout (1 s by default) of starting: poll finely.
                await Task.Delay(TimeSpan.FromMilliseconds(100), services.Time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var (_, client) in clients)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<RestoreVerification> CheckOnceAsync(VerifyInput input, List<(string Name, EtcdClient Client)> clients, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var statuses = await Task.WhenAll(clients.Select(async c =>
        {
            try
            {
                return (c.Name, Status: await c.Client.StatusAsync(cancellationToken).ConfigureAwait(false), Error: (string?)null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return (c.Name, Status: (EtcdStatus?)null, Error: ex.Message);
            }
        })).ConfigureAwait(false);
        problems.AddRange(statuses.Where(s => s.Status is null).Select(s => $"{s.Name} does not answer: {s.Error}"));
        var up = statuses.Where(s => s.Status is not null).ToList();
        var leaders = up.Count(s => s.Status!.IsLeader);
        var leaderIds = up.Select(s => s.Status!.Leader).Distinct().ToList();
        if (leaders != 1 || leaderIds.Count != 1 || leaderIds[0] == 0)
        {
            problems.Add($"expected exactly one leader agreed on by all, found {leaders} leader(s) and {leaderIds.Count} opinion(s)");
        }

        if (up.Select(s => s.Status!.Header.ClusterId).Distinct().Count() > 1)
        {
            problems.Add("members report different cluster ids");
        }

        long? revision = up.Count > 0 ? up.Max(s => s.Status!.Header.Revision) : null;
        if (up.Any(s => s.Status!.Header.Revision != input.ExpectedRevision))
        {
            problems.Add($"revision {string.Join("/", up.Select(s => $"{s.Name}={s.Status!.Header.Revision}"))} differs from the snapshot's {input.ExpectedRevision}");
        }

        long? keyCount = null;
        var hashes = new Dictionary<string, uint>(StringComparer.Ordinal);
        if (problems.Count == 0)
        {
            try
            {
                keyCount = await clients[0].Client.CountAsync("", cancellationToken).ConfigureAwait(false);
                if (input.ExpectedKeyCount is { } expected && keyCount != expected)
                {
                    problems.Add($"the cluster holds {keyCount} keys, the snapshot {expected}");
                }

                // Each member hashes its whole keyspace (a full read of its database): ask them all at once.
                var hashed = await Task.WhenAll(clients.Select(async c =>
                    (c.Name, (await c.Client.HashKVAsync(input.ExpectedRevision, cancellationToken).ConfigureAwait(false)).Hash))).ConfigureAwait(false);
                foreach (var (name, hash) in hashed)
                {
                    hashes[name] = hash;
                }

                if (hashes.Values.Distinct().Count() != 1)
                {
                    problems.Add($"HashKV differs across members: {string.Join(", ", hashes.Select(h => $"{h.Key}={h.Value}"))}");
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                problems.Add($"count/HashKV failed: {ex.Message}");
            }
        }

        return new RestoreVerification
        {
            Succeeded = problems.Count == 0,
            MembersUp = up.Count,
            Leaders = leaders,
            Revision = revision,
            ExpectedRevision = input.ExpectedRevision,
            KeyCount = keyCount,
            ExpectedKeyCount = input.ExpectedKeyCount,
            HashKv = hashes,
            Problems = problems,
        };
    }
}
