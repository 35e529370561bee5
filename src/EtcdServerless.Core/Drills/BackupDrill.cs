using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using EtcdServerless.Core.Browse;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
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
}

/// <summary>A drill's result, and where its record went.</summary>
/// <param name="Drill">The drill.</param>
/// <param name="Record">The record's object name in the store, when it was written.</param>
/// <param name="RecordError">Why the record could not be written, when it could not.</param>
internal sealed record DrillReport(DrillResult Drill, string? Record, string? RecordError);

/// <summary>
/// A restore drill of one backup, run on this machine: decrypt the artifact (streamed, checked against the manifest)
/// into a private scratch folder, then the shared checks of <see cref="SnapshotDrill"/> (etcd's own
/// <c>snapshot restore</c>, a throwaway single-member etcd on free loopback ports, revision, live key count, HashKV,
/// a sample of keys). Everything is removed on every exit path; <see cref="DrillRecorder"/> logs the outcome
/// (<c>DrillFailed</c> feeds the alerts) and records it beside the manifest.
/// </summary>
/// <remarks>
/// Problems with the backup or the restore are failed checks, not exceptions; only cancellation and store faults
/// while reading the manifest escape. The scratch folder is 0700 and every file in it 0600 or etcd's own 0700 data
/// dir, because it holds the cluster's secrets in the clear for the drill's duration.
/// </remarks>
internal sealed class BackupDrill(IBackupStore store, IKeyStore keys, DrillOptions? options = null, ILogger? logger = null, TimeProvider? time = null) : IBackupDrill
{
    /// <summary>Prefix of scratch folders, so leftovers of a killed process can be recognised.</summary>
    public const string FolderPrefix = DrillScratch.FolderPrefix;

    /// <summary>The <see cref="DrillResult.RanOn"/> of a local drill.</summary>
    public const string RanOnLocal = "local";

    internal static readonly string ToolVersion =
        typeof(BackupDrill).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";

    private readonly DrillOptions _options = options ?? new DrillOptions();
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <inheritdoc/>
    public string RanOn => RanOnLocal;

    /// <summary>Runs the drill, logs its outcome and writes its record to the store.</summary>
    public Task<DrillReport> RunAndRecordAsync(BackupManifest manifest, CancellationToken cancellationToken = default) =>
        DrillRecorder.RunAndRecordAsync(this, store, manifest, _logger, _time, cancellationToken);

    /// <summary>Runs the drill without recording it.</summary>
    public async Task<DrillResult> RunAsync(BackupManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var started = _time.GetUtcNow();
        var total = Stopwatch.StartNew();
        var checks = new DrillCheckList();
        var etcdVersion = "";
        var scratch = DrillScratch.Create(_options.TempDirectory ?? Path.GetTempPath());
        try
        {
            etcdVersion = await RunChecksAsync(manifest, scratch, checks, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DrillScratch.Delete(scratch, _logger);
        }

        return DrillResult.Create(DrillExpectation.From(manifest), started, checks.Checks, total.Elapsed, etcdVersion, RanOnLocal);
    }

    private async Task<string> RunChecksAsync(BackupManifest manifest, string scratch, DrillCheckList checks, CancellationToken cancellationToken)
    {
        // 1. Decrypt (streamed; size and SHA-256 of the plaintext checked against the manifest).
        DecryptedSnapshot snapshot;
        try
        {
            snapshot = await DecryptedSnapshot.OpenAsync(store, keys, manifest, scratch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is CryptographicException or KeyNotFoundException or InvalidDataException or EndOfStreamException or BackupStoreException)
        {
            checks.Add("decrypt", false, detail: ex.Message);
            return "";
        }

        using (snapshot)
        {
            checks.Add("decrypt", true, manifest.Snapshot.Sha256, manifest.Snapshot.Sha256, $"{manifest.Snapshot.Size} bytes, every chunk authenticated, sha256 equal to the manifest's");

            // 2. onwards: the checks every drill shares, wherever it runs.
            return await new SnapshotDrill(_options, _logger).RunAsync(
                DrillExpectation.From(manifest), snapshot.Path, snapshot.Handle, scratch, checks, snapshot.Dispose, cancellationToken).ConfigureAwait(false);
        }
    }
}
