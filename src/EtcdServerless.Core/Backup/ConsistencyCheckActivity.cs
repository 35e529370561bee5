using System.Globalization;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Etcd.Errors;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Backup;

/// <summary>
/// Optional check after a snapshot: HashKV at the snapshot's revision on every configured member. Different
/// hashes mean the members' key spaces diverged (a replica is corrupt); the result reports it, the backup is kept.
/// </summary>
internal sealed class ConsistencyCheckActivity(BackupEnvironment environment) : IActivity<ConsistencyCheckRequest, ConsistencyCheckResult>
{
    public const string ActivityName = "Backup_ConsistencyCheck";

    private readonly ILogger _logger = environment.LoggerFactory.CreateLogger<ConsistencyCheckActivity>();

    public string Name => ActivityName;

    public async Task<ConsistencyCheckResult> RunAsync(ConsistencyCheckRequest input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!environment.Pipeline.ConsistencyCheck)
        {
            // The orchestrator always asks (it is built without services); the setting lives with the activities.
            return new ConsistencyCheckResult { Consistent = true, Skipped = true, Revision = input.Revision, Message = "consistency check disabled" };
        }

        var cluster = environment.FindCluster(input.Cluster);
        if (cluster is null)
        {
            return new ConsistencyCheckResult { Consistent = false, Revision = input.Revision, Message = $"Cluster '{input.Cluster}' is not configured." };
        }

        var results = await Task.WhenAll(cluster.Endpoints.Select(async endpoint =>
        {
            try
            {
                using var client = environment.Clients.Create(cluster, new Uri(endpoint));
                var hash = await client.HashKVAsync(input.Revision, cancellationToken).ConfigureAwait(false);
                return (endpoint, Hash: (uint?)hash.Hash, Text: hash.Hash.ToString(CultureInfo.InvariantCulture));
            }
            catch (Exception ex) when (ex is EtcdException or HttpRequestException or IOException)
            {
                return (endpoint, Hash: (uint?)null, Text: "error: " + ex.Message);
            }
        })).ConfigureAwait(false);

        var distinct = results.Where(r => r.Hash is not null).Select(r => r.Hash).Distinct().Count();
        var members = results.ToDictionary(r => r.endpoint, r => r.Text, StringComparer.Ordinal);
        if (distinct > 1)
        {
            var detail = string.Join(", ", members.Select(m => $"{m.Key}={m.Value}"));
            _logger.ConsistencyDivergence(input.Cluster, input.Revision, detail);
            return new ConsistencyCheckResult { Consistent = false, Revision = input.Revision, Members = members, Message = "members disagree: " + detail };
        }

        return new ConsistencyCheckResult
        {
            Consistent = true,
            Revision = input.Revision,
            Members = members,
            Message = results.Any(r => r.Hash is null) ? "some members could not be checked" : null,
        };
    }
}
