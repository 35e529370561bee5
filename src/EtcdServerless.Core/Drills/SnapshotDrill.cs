using System.Buffers.Binary;
using System.Security.Cryptography;
using EtcdServerless.Core.Members;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Errors;
using EtcdServerless.Etcd.Inspection;
using EtcdServerless.Etcd.Keyspace;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace EtcdServerless.Core.Drills;

/// <summary>
/// The checks of a restore drill that run on a plaintext snapshot already on this machine, shared by the local drill
/// (<see cref="BackupDrill"/>) and the member agent's drill endpoint: the snapshot against the expectation, etcd's own
/// <c>snapshot restore</c> into the scratch folder, a throwaway single-member etcd on free loopback ports, and what it
/// serves (revision, live key count, HashKV, a sample of keys) compared, then the member stopped.
/// </summary>
/// <remarks>
/// Problems are failed checks, not exceptions; only cancellation escapes. The caller owns the scratch folder and
/// removes it; the member started here is stopped on every path.
/// </remarks>
internal sealed class SnapshotDrill(DrillOptions? options = null, ILogger? logger = null)
{
    private const string MemberName = "drill";

    private readonly DrillOptions _options = options ?? new DrillOptions();
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>
    /// Runs the checks from <c>snapshot</c> to <c>stop</c> into <paramref name="checks"/>; returns the etcd version
    /// that served the restored member ("" when none did).
    /// </summary>
    /// <param name="expected">What the snapshot must be.</param>
    /// <param name="snapshotPath">The plaintext snapshot, inside <paramref name="scratch"/>.</param>
    /// <param name="handle">A read handle on it.</param>
    /// <param name="scratch">The drill's private folder (the restored data dir and the member's log go there).</param>
    /// <param name="checks">Where the checks go.</param>
    /// <param name="releasePlaintext">Called once the restored data dir exists: the plaintext is not needed any more.</param>
    /// <param name="cancellationToken">Cancels the drill (the member is still stopped).</param>
    public async Task<string> RunAsync(
        DrillExpectation expected, string snapshotPath, SafeFileHandle handle, string scratch, DrillCheckList checks, Action releasePlaintext, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(checks);
        ArgumentNullException.ThrowIfNull(releasePlaintext);

        // The snapshot itself: what etcdctl snapshot status would say, and what the restored member must serve.
        LiveKeyspace live;
        KvHash kvHash;
        try
        {
            var status = await SnapshotInspector.InspectAsync(handle, new SnapshotInspectionOptions
            {
                Trailer = SnapshotTrailerMode.Present,
                TotalKeySemantics = expected.EtcdVersion.StartsWith("3.6", StringComparison.Ordinal) ? TotalKeySemantics.Etcd36 : TotalKeySemantics.Etcd34,
            }, cancellationToken).ConfigureAwait(false);
            var want = (expected.Revision, expected.TotalKey, expected.Hash);
            var found = (status.Revision, status.TotalKey, status.Hash);
            var dataLength = expected.Size - SnapshotTrailer.Size;
            live = await Task.Run(() => KeyspaceReader.ReadLiveKeys(handle, dataLength, [], hashValues: true, cancellationToken), cancellationToken).ConfigureAwait(false);
            kvHash = await Task.Run(() => KvHashReader.Compute(handle, dataLength, live.Keys, cancellationToken), cancellationToken).ConfigureAwait(false);
            checks.Add("snapshot", want == found, $"revision {want.Revision}, {want.TotalKey} keys, hash {want.Hash}",
                $"revision {found.Revision}, {found.TotalKey} keys, hash {found.Hash}", "sha256 trailer and bbolt structure valid");
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            checks.Add("snapshot", false, detail: ex.Message);
            return "";
        }

        if (!checks.LastPassed)
        {
            return "";
        }

        // etcd's own restore tool, into the scratch folder.
        var (clientPort, peerPort) = ThrowawayEtcd.FreePorts();
        var dataDir = Path.Combine(scratch, "member-data");
        var peerUrl = $"http://127.0.0.1:{peerPort}";
        var tools = new EtcdToolPaths { EtcdPath = _options.EtcdPath, EtcdutlPath = _options.EtcdutlPath, EtcdctlPath = _options.EtcdctlPath };
        var restore = await ThrowawayEtcd.RestoreAsync(tools, snapshotPath, dataDir, MemberName, peerUrl, _options.RestoreTimeout, cancellationToken).ConfigureAwait(false);
        checks.Add("restore", restore.Error is null, detail: restore.Error ?? restore.Detail);
        if (restore.Error is not null)
        {
            return "";
        }

        // The plaintext file is not needed any more: the restored data dir is what the member serves.
        releasePlaintext();
        return await ServeAndCompareAsync(expected, scratch, dataDir, clientPort, peerUrl, live, kvHash, checks, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> ServeAndCompareAsync(
        DrillExpectation expected, string scratch, string dataDir, int clientPort, string peerUrl, LiveKeyspace live, KvHash kvHash,
        DrillCheckList checks, CancellationToken cancellationToken)
    {
        var etcdVersion = await ThrowawayEtcd.EtcdVersionAsync(_options.EtcdPath, cancellationToken).ConfigureAwait(false);
        // No metrics or pprof listeners of its own; the member lives for seconds.
        var config = ThrowawayEtcd.MemberConfig(MemberName, dataDir, clientPort, peerUrl, Path.Combine(scratch, "etcd.log"), expected.Size);
        var member = new EtcdProcess(config, _options.EtcdPath, _logger) { StopGrace = TimeSpan.FromSeconds(10) };
        try
        {
            // 4. Start a throwaway member on loopback.
            try
            {
                await member.StartAsync(cancellationToken).ConfigureAwait(false);
                await member.WaitHealthyAsync(_options.StartTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
                checks.Add("start", true, null, null, $"{config.ClientUrl}, etcd {etcdVersion}");
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or FileNotFoundException or IOException)
            {
                checks.Add("start", false, null, null, ex.Message);
                return etcdVersion;
            }

            var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri(config.ClientUrl), DialTimeout = TimeSpan.FromSeconds(2), CallTimeout = TimeSpan.FromSeconds(30) }, _logger);
            await using (client.ConfigureAwait(false))
            {
                try
                {
                    // 5. Revision, live keys, HashKV, a sample of keys.
                    var status = await client.StatusAsync(cancellationToken).ConfigureAwait(false);
                    checks.Add("revision", status.Header.Revision == expected.Revision, expected.Revision, status.Header.Revision, null);
                    var count = await client.CountAsync("", cancellationToken).ConfigureAwait(false);
                    checks.Add("keys", count == live.Keys.Count, live.Keys.Count, count, "live keys: the snapshot's key bucket at its revision vs a count-only range on the member");
                    var hash = await client.HashKVAsync(expected.Revision, cancellationToken).ConfigureAwait(false);
                    checks.Add("hashkv", hash.Hash == kvHash.Hash, kvHash.Hash, hash.Hash,
                        $"HashKV at revision {expected.Revision} (compacted at {kvHash.CompactRevision}) vs the same hash over the snapshot's key bucket");
                    var (sampled, mismatches) = await CompareSampleAsync(client, live, _options.SampleSize, cancellationToken).ConfigureAwait(false);
                    checks.Add("sample", mismatches.Count == 0, sampled, sampled - mismatches.Count,
                        mismatches.Count == 0 ? $"{sampled} key(s) read back equal to the snapshot (value sha256, revisions, version, lease)" : "differs: " + string.Join(", ", mismatches.Take(5)));
                }
                catch (EtcdException ex)
                {
                    checks.Add("serve", false, null, null, ex.Message);
                }
            }

            // 6. Stop it cleanly (etcd fsyncs and closes its WAL on SIGTERM).
            await member.StopAsync(cancellationToken).ConfigureAwait(false);
            // etcd re-raises SIGTERM after its clean shutdown, so 143 (128 + 15) is as clean as 0; 137 means it had to be killed.
            checks.Add("stop", member.LastExitCode is 0 or 143, "0 or 143", member.LastExitCode, "SIGTERM, then SIGKILL after 10 s");
            return etcdVersion;
        }
        finally
        {
            // Cancellation or a fault above must not leave the member running on a copy of the cluster's data.
            await member.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<(int Sampled, List<string> Mismatches)> CompareSampleAsync(EtcdClient client, LiveKeyspace live, int size, CancellationToken cancellationToken)
    {
        var mismatches = new List<string>();
        var n = Math.Min(Math.Max(size, 0), live.Keys.Count);
        for (var i = 0; i < n; i++)
        {
            // Evenly spread over the sorted keys, so first, middle and last ranges are all read.
            var expected = live.Keys[(int)((long)i * live.Keys.Count / n)];
            var result = await client.RangeAsync(expected.Key, cancellationToken: cancellationToken).ConfigureAwait(false);
            var name = System.Text.Encoding.UTF8.GetString(expected.Key);
            if (result.Kvs.Count != 1)
            {
                mismatches.Add($"{name}: missing");
                continue;
            }

            var kv = result.Kvs[0];
            var digest = SHA256.HashData(kv.Value);
            if (BinaryPrimitives.ReadUInt128LittleEndian(digest) != expected.ValueHash || kv.ModRevision != expected.ModRevision
                || kv.CreateRevision != expected.CreateRevision || kv.Version != expected.Version || kv.Lease != expected.Lease)
            {
                mismatches.Add(name);
            }
        }

        return (n, mismatches);
    }
}
