using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using EtcdServerless.Core.Browse;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Members;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Errors;
using EtcdServerless.Etcd.Inspection;
using EtcdServerless.Etcd.Keyspace;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Core.Drills;

/// <summary>Settings of a restore drill.</summary>
internal sealed record DrillOptions
{
    /// <summary>The etcd server binary (name on PATH or path).</summary>
    public string EtcdPath { get; init; } = "etcd";

    /// <summary>etcd 3.5+'s offline tool; preferred for the restore when present.</summary>
    public string EtcdutlPath { get; init; } = "etcdutl";

    /// <summary>etcdctl, the restore tool of etcd 3.4.</summary>
    public string EtcdctlPath { get; init; } = "etcdctl";

    /// <summary>Where the scratch folder is made (the system temp folder by default).</summary>
    public string? TempDirectory { get; init; }

    /// <summary>How many keys are read back from the restored member and compared with the snapshot.</summary>
    public int SampleSize { get; init; } = 16;

    /// <summary>How long <c>snapshot restore</c> may take.</summary>
    public TimeSpan RestoreTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long the restored member has to report healthy.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The etcd programs, as the shared throwaway-member code takes them.</summary>
    public EtcdToolPaths Tools => new() { EtcdPath = EtcdPath, EtcdutlPath = EtcdutlPath, EtcdctlPath = EtcdctlPath };
}

/// <summary>A drill's result, and where its record went.</summary>
/// <param name="Drill">The drill.</param>
/// <param name="Record">The record's object name in the store, when it was written.</param>
/// <param name="RecordError">Why the record could not be written, when it could not.</param>
internal sealed record DrillReport(DrillResult Drill, string? Record, string? RecordError);

/// <summary>
/// A restore drill of one backup, run on this machine: decrypt the artifact (streamed, checked against the manifest)
/// into a private scratch folder, run etcd's own <c>snapshot restore</c> into it, start a throwaway single-member etcd
/// on free loopback ports from the restored data dir, and compare what that member serves (revision, live key count,
/// HashKV, a sample of keys) with the manifest and the snapshot. Everything is removed on every exit path; the
/// outcome is logged (<c>DrillFailed</c> feeds the alerts) and recorded beside the manifest.
/// </summary>
/// <remarks>
/// Problems with the backup or the restore are failed checks, not exceptions; only cancellation and store faults
/// while reading the manifest escape. The scratch folder is 0700 and every file in it 0600 or etcd's own 0700 data
/// dir, because it holds the cluster's secrets in the clear for the drill's duration.
/// </remarks>
internal sealed class BackupDrill(IBackupStore store, IKeyStore keys, DrillOptions? options = null, ILogger? logger = null, TimeProvider? time = null)
{
    /// <summary>Prefix of scratch folders, so leftovers of a killed process can be recognised.</summary>
    public const string FolderPrefix = "etcd-backup-drill-";

    private const string MemberName = "drill";

    private static readonly string s_toolVersion =
        typeof(BackupDrill).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";

    private readonly DrillOptions _options = options ?? new DrillOptions();
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Runs the drill, logs its outcome and writes its record to the store.</summary>
    public async Task<DrillReport> RunAndRecordAsync(BackupManifest manifest, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(manifest, cancellationToken).ConfigureAwait(false);
        if (result.FirstFailure is { } failed)
        {
            _logger.DrillFailed(result.Cluster, result.BackupId, failed.Name, failed.Detail ?? $"expected {failed.Expected}, found {failed.Actual}");
        }
        else
        {
            _logger.DrillPassed(result.Cluster, result.BackupId, result.Checks.Count, result.Duration);
        }

        try
        {
            // As long as the backup it vouches for, never less than now (a past date would be refused by some stores).
            var now = _time.GetUtcNow();
            var retainUntil = manifest.Artifact.RetainUntil is { } until ? (until > now ? until : now) : (DateTimeOffset?)null;
            var stored = await DrillRecords.WriteAsync(store, result, retainUntil, cancellationToken).ConfigureAwait(false);
            return new DrillReport(result, stored.Name, null);
        }
        catch (BackupStoreException ex)
        {
            _logger.DrillRecordNotWritten(result.Cluster, result.BackupId, ex.Message);
            return new DrillReport(result, null, ex.Message);
        }
    }

    /// <summary>Runs the drill without recording it.</summary>
    public async Task<DrillResult> RunAsync(BackupManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var started = _time.GetUtcNow();
        var total = Stopwatch.StartNew();
        var checks = new List<DrillCheck>();
        var etcdVersion = "";
        var scratch = CreateScratchFolder();
        try
        {
            etcdVersion = await RunChecksAsync(manifest, scratch, checks, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DeleteScratchFolder(scratch);
        }

        return new DrillResult
        {
            Cluster = manifest.Cluster,
            BackupId = manifest.BackupId,
            Started = started,
            Outcome = checks.Count > 0 && checks.All(c => c.Passed) ? DrillResult.OutcomePassed : DrillResult.OutcomeFailed,
            Checks = checks,
            Duration = total.Elapsed,
            EtcdVersion = etcdVersion,
            ToolVersion = s_toolVersion,
        };
    }

    private async Task<string> RunChecksAsync(BackupManifest manifest, string scratch, List<DrillCheck> checks, CancellationToken cancellationToken)
    {
        var step = Stopwatch.StartNew();
        void Add(string name, bool passed, object? expected = null, object? actual = null, string? detail = null)
        {
            checks.Add(new DrillCheck(name, passed, Text(expected), Text(actual), detail, step.Elapsed));
            step.Restart();
        }

        // 1. Decrypt (streamed; size and SHA-256 of the plaintext checked against the manifest).
        DecryptedSnapshot snapshot;
        try
        {
            snapshot = await DecryptedSnapshot.OpenAsync(store, keys, manifest, scratch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is CryptographicException or KeyNotFoundException or InvalidDataException or EndOfStreamException or BackupStoreException)
        {
            Add("decrypt", false, detail: ex.Message);
            return "";
        }

        LiveKeyspace live;
        KvHash kvHash;
        string snapshotPath;
        using (snapshot)
        {
            Add("decrypt", true, manifest.Snapshot.Sha256, manifest.Snapshot.Sha256, $"{manifest.Snapshot.Size} bytes, every chunk authenticated, sha256 equal to the manifest's");

            // 2. The snapshot itself: what etcdctl snapshot status would say, and what the restored member must serve.
            try
            {
                var status = await SnapshotInspector.InspectAsync(snapshot.Handle, new SnapshotInspectionOptions
                {
                    Trailer = SnapshotTrailerMode.Present,
                    TotalKeySemantics = manifest.Source.EtcdVersion.StartsWith("3.6", StringComparison.Ordinal) ? TotalKeySemantics.Etcd36 : TotalKeySemantics.Etcd34,
                }, cancellationToken).ConfigureAwait(false);
                var expected = (manifest.Snapshot.Revision, manifest.Snapshot.TotalKey, manifest.Snapshot.Hash);
                var actual = (status.Revision, status.TotalKey, status.Hash);
                live = await Task.Run(() => KeyspaceReader.ReadLiveKeys(snapshot.Handle, snapshot.DataLength, [], hashValues: true, cancellationToken), cancellationToken).ConfigureAwait(false);
                kvHash = await Task.Run(() => KvHashReader.Compute(snapshot.Handle, snapshot.DataLength, live.Keys, cancellationToken), cancellationToken).ConfigureAwait(false);
                Add("snapshot", expected == actual, $"revision {expected.Revision}, {expected.TotalKey} keys, hash {expected.Hash}",
                    $"revision {actual.Revision}, {actual.TotalKey} keys, hash {actual.Hash}", "sha256 trailer and bbolt structure valid");
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
            {
                Add("snapshot", false, detail: ex.Message);
                return "";
            }

            if (!checks[^1].Passed)
            {
                return "";
            }

            // 3. etcd's own restore tool, into the scratch folder.
            snapshotPath = snapshot.Path;
            var (clientPort, peerPort) = FreePorts();
            var dataDir = Path.Combine(scratch, "member-data");
            var peerUrl = $"http://127.0.0.1:{peerPort}";
            var restore = await RestoreAsync(snapshotPath, dataDir, peerUrl, cancellationToken).ConfigureAwait(false);
            Add("restore", restore.Error is null, detail: restore.Error ?? restore.Detail);
            if (restore.Error is not null)
            {
                return "";
            }

            // The plaintext file is not needed any more: the restored data dir is what the member serves.
            snapshot.Dispose();
            return await ServeAndCompareAsync(manifest, scratch, dataDir, clientPort, peerUrl, live, kvHash, Add, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> ServeAndCompareAsync(
        BackupManifest manifest, string scratch, string dataDir, int clientPort, string peerUrl, LiveKeyspace live, KvHash kvHash,
        Action<string, bool, object?, object?, string?> add, CancellationToken cancellationToken)
    {
        var etcdVersion = await EtcdVersionAsync(cancellationToken).ConfigureAwait(false);
        // No metrics or pprof listeners of its own; the member lives for seconds.
        var config = ThrowawayEtcd.MemberConfig(MemberName, dataDir, clientPort, peerUrl, Path.Combine(scratch, "etcd.log"), manifest.Snapshot.Size);
        var member = new EtcdProcess(config, _options.EtcdPath, _logger) { StopGrace = TimeSpan.FromSeconds(10) };
        try
        {
            // 4. Start a throwaway member on loopback.
            try
            {
                await member.StartAsync(cancellationToken).ConfigureAwait(false);
                await member.WaitHealthyAsync(_options.StartTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
                add("start", true, null, null, $"{config.ClientUrl}, etcd {etcdVersion}");
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or FileNotFoundException or IOException)
            {
                add("start", false, null, null, ex.Message);
                return etcdVersion;
            }

            var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri(config.ClientUrl), DialTimeout = TimeSpan.FromSeconds(2), CallTimeout = TimeSpan.FromSeconds(30) }, _logger);
            await using (client.ConfigureAwait(false))
            {
                try
                {
                    // 5. Revision, live keys, HashKV, a sample of keys.
                    var status = await client.StatusAsync(cancellationToken).ConfigureAwait(false);
                    add("revision", status.Header.Revision == manifest.Snapshot.Revision, manifest.Snapshot.Revision, status.Header.Revision, null);
                    var count = await client.CountAsync("", cancellationToken).ConfigureAwait(false);
                    add("keys", count == live.Keys.Count, live.Keys.Count, count, "live keys: the snapshot's key bucket at its revision vs a count-only range on the member");
                    var hash = await client.HashKVAsync(manifest.Snapshot.Revision, cancellationToken).ConfigureAwait(false);
                    add("hashkv", hash.Hash == kvHash.Hash, kvHash.Hash, hash.Hash,
                        $"HashKV at revision {manifest.Snapshot.Revision} (compacted at {kvHash.CompactRevision}) vs the same hash over the snapshot's key bucket");
                    var (sampled, mismatches) = await CompareSampleAsync(client, live, _options.SampleSize, cancellationToken).ConfigureAwait(false);
                    add("sample", mismatches.Count == 0, sampled, sampled - mismatches.Count,
                        mismatches.Count == 0 ? $"{sampled} key(s) read back equal to the snapshot (value sha256, revisions, version, lease)" : "differs: " + string.Join(", ", mismatches.Take(5)));
                }
                catch (EtcdException ex)
                {
                    add("serve", false, null, null, ex.Message);
                }
            }

            // 6. Stop it cleanly (etcd fsyncs and closes its WAL on SIGTERM).
            await member.StopAsync(cancellationToken).ConfigureAwait(false);
            // etcd re-raises SIGTERM after its clean shutdown, so 143 (128 + 15) is as clean as 0; 137 means it had to be killed.
            add("stop", member.LastExitCode is 0 or 143, "0 or 143", member.LastExitCode, "SIGTERM, then SIGKILL after 10 s");
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

    private Task<(string? Error, string? Detail)> RestoreAsync(string snapshotPath, string dataDir, string peerUrl, CancellationToken cancellationToken) =>
        ThrowawayEtcd.RestoreAsync(_options.Tools, snapshotPath, dataDir, MemberName, peerUrl, _options.RestoreTimeout, cancellationToken);

    private Task<string> EtcdVersionAsync(CancellationToken cancellationToken) => ThrowawayEtcd.EtcdVersionAsync(_options.EtcdPath, cancellationToken);

    private string CreateScratchFolder() => ThrowawayEtcd.CreateScratchFolder(_options.TempDirectory, FolderPrefix);

    private void DeleteScratchFolder(string folder)
    {
        try
        {
            ThrowawayEtcd.DeleteScratchFolder(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.DrillScratchNotRemoved(folder, ex.Message);
            throw;
        }
    }

    private static (int Client, int Peer) FreePorts() => ThrowawayEtcd.FreePorts();

    private static string? Text(object? value) => value is null ? null : Convert.ToString(value, CultureInfo.InvariantCulture);
}
