using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Browse;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Etcd.Inspection;
using EtcdServerless.Etcd.Keyspace;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// <c>etcd-backup backup ls|get|diff|export</c>: read the keys inside a backup without restoring a cluster, and
/// write its verified plaintext snapshot for etcd's own tools. Each decrypts the artifact into a private temp
/// folder (<see cref="DecryptedSnapshot"/>) that is deleted when the verb ends, whatever the outcome.
/// </summary>
internal static partial class BackupBrowseCommands
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>How <c>backup get</c> prints the value.</summary>
    internal enum GetFormat
    {
        Table,
        Json,
        Raw,
    }

    public static void AddTo(Command backup, CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(backup);
        backup.Subcommands.Add(List(console));
        backup.Subcommands.Add(Get(console));
        backup.Subcommands.Add(Diff(console));
        backup.Subcommands.Add(Export(console));
    }

    private static Argument<string> IdArgument(string name = "ID") =>
        new(name) { Description = "A backup id (see backup list), or 'latest'." };

    private static Option<string?> ClusterOption() => new("--cluster", "-c")
    {
        Description = "The cluster the backup belongs to (required when more than one cluster is configured).",
    };

    private static Option<string?> PrefixOption() => new("--prefix")
    {
        Description = "Only keys that start with this prefix (e.g. /registry/secrets/).",
    };

    private static Command List(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = ClusterOption();
        var prefix = PrefixOption();
        var output = CommonOptions.Output();
        var id = IdArgument();
        var command = new Command("ls", "List the keys live in a backup at its revision (no restore): revisions, version, lease, value size, Kubernetes kind.")
        {
            id, config, cluster, prefix, output,
        };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var manifest = await ResolveAsync(app, parse.GetValue(id)!, parse.GetValue(cluster), ct).ConfigureAwait(false);
            var keyspace = await ReadKeyspaceAsync(app, manifest, parse.GetValue(prefix), hashValues: false, ct).ConfigureAwait(false);
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await WriteListJsonAsync(console.Out, manifest, keyspace, ct).ConfigureAwait(false);
            }
            else
            {
                await WriteListTableAsync(console.Out, keyspace, ct).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    private static Command Get(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = ClusterOption();
        var id = IdArgument();
        var key = new Argument<string>("KEY") { Description = "The key, exactly (e.g. /registry/configmaps/default/app)." };
        var output = new Option<GetFormat>("--output", "-o")
        {
            Description = "table (metadata and the value as text), json (value in base64) or raw (the value's bytes only, for 'etcdctl put KEY < file').",
            DefaultValueFactory = _ => GetFormat.Table,
        };
        var command = new Command("get", "Print one key's value and metadata as it was in a backup (no restore).") { id, key, config, cluster, output };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var manifest = await ResolveAsync(app, parse.GetValue(id)!, parse.GetValue(cluster), ct).ConfigureAwait(false);
            var wanted = parse.GetValue(key)!;
            KeyValueAtRevision? found;
            using (var snapshot = await OpenAsync(app, manifest, ct).ConfigureAwait(false))
            {
                found = await Task.Run(() => KeyspaceReader.ReadKey(snapshot.Handle, snapshot.DataLength, Encoding.UTF8.GetBytes(wanted), ct), ct).ConfigureAwait(false);
            }

            if (found is null)
            {
                throw new KeyNotFoundException($"key '{wanted}' does not exist in backup {manifest.BackupId} (revision {manifest.Snapshot.Revision})");
            }

            switch (parse.GetValue(output))
            {
                case GetFormat.Raw:
                    await console.Out.FlushAsync(ct).ConfigureAwait(false);
                    var raw = console.RawOut ?? Console.OpenStandardOutput();
                    await raw.WriteAsync(found.Value, ct).ConfigureAwait(false);
                    await raw.FlushAsync(ct).ConfigureAwait(false);
                    break;
                case GetFormat.Json:
                    await CliJson.WriteAsync(console.Out, ToJson(found.Key, found.Value), ct).ConfigureAwait(false);
                    break;
                default:
                    await WriteGetTableAsync(console.Out, manifest, found, ct).ConfigureAwait(false);
                    break;
            }

            return 0;
        });
        return command;
    }

    private static Command Diff(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = ClusterOption();
        var prefix = PrefixOption();
        var output = CommonOptions.Output();
        var from = IdArgument("ID1");
        var to = IdArgument("ID2");
        var command = new Command("diff", "Keys added, removed and changed between two backups of one cluster (no restore).")
        {
            from, to, config, cluster, prefix, output,
        };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var first = await ResolveAsync(app, parse.GetValue(from)!, parse.GetValue(cluster), ct).ConfigureAwait(false);
            var second = await ResolveAsync(app, parse.GetValue(to)!, parse.GetValue(cluster), ct).ConfigureAwait(false);
            if (!string.Equals(first.Cluster, second.Cluster, StringComparison.Ordinal))
            {
                throw new ArgumentException($"backups {first.BackupId} ({first.Cluster}) and {second.BackupId} ({second.Cluster}) belong to different clusters");
            }

            // One plaintext snapshot on disk at a time: the first's index is kept, its file deleted, then the second.
            var before = await ReadKeyspaceAsync(app, first, parse.GetValue(prefix), hashValues: true, ct).ConfigureAwait(false);
            var after = await ReadKeyspaceAsync(app, second, parse.GetValue(prefix), hashValues: true, ct).ConfigureAwait(false);
            var changes = KeyspaceDiff.Compare(before.Keys, after.Keys);
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await CliJson.WriteAsync(console.Out, new
                {
                    cluster = first.Cluster,
                    from = new { backupId = first.BackupId, revision = before.Revision },
                    to = new { backupId = second.BackupId, revision = after.Revision },
                    added = changes.Where(c => c.Kind == KeyChangeKind.Added).Select(c => ToJson(c.After!, null)),
                    removed = changes.Where(c => c.Kind == KeyChangeKind.Removed).Select(c => ToJson(c.Before!, null)),
                    changed = changes.Where(c => c.Kind == KeyChangeKind.Changed).Select(c => new
                    {
                        key = KeyText(c.After!.Key),
                        what = c.What,
                        before = ToJson(c.Before!, null),
                        after = ToJson(c.After!, null),
                    }),
                }, ct).ConfigureAwait(false);
                return 0;
            }

            var table = new TextTable("CHANGE", "KEY", "MOD REV BEFORE", "MOD REV AFTER", "WHAT", "KIND");
            foreach (var change in changes)
            {
                var kind = (change.After ?? change.Before)!.Kubernetes;
                table.AddRow(change.Kind.ToString().ToLowerInvariant(), KeyText((change.After ?? change.Before)!.Key),
                    change.Before is null ? "-" : Number(change.Before.ModRevision), change.After is null ? "-" : Number(change.After.ModRevision),
                    string.Join(",", change.What), Kind(kind));
            }

            await table.WriteAsync(console.Out, ct).ConfigureAwait(false);
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{first.BackupId} (revision {before.Revision}) -> {second.BackupId} (revision {after.Revision}): {changes.Count(c => c.Kind == KeyChangeKind.Added)} added, {changes.Count(c => c.Kind == KeyChangeKind.Removed)} removed, {changes.Count(c => c.Kind == KeyChangeKind.Changed)} changed")).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command Export(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = ClusterOption();
        var id = IdArgument();
        var file = new Option<FileInfo>("--output", "-o") { Description = "The snapshot file to write (created with mode 0600).", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite the file if it exists." };
        var bundle = new Option<bool>("--bundle") { Description = "Write the backup's control-plane bundle (a tar of the agent's Agent:Bundle:Paths; it holds secrets: mode 0600) instead of the snapshot." };
        var command = new Command("export", "Write a backup's verified plaintext snapshot, byte-identical to the one captured ('etcdctl snapshot restore' accepts it).")
        {
            id, config, cluster, file, force, bundle,
        };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var manifest = await ResolveAsync(app, parse.GetValue(id)!, parse.GetValue(cluster), ct).ConfigureAwait(false);
            var destination = parse.GetValue(file)!.FullName;
            var overwrite = parse.GetValue(force);
            if (!overwrite && File.Exists(destination))
            {
                // Checked before the download too, so a long decrypt does not end in a refusal.
                throw new IOException($"'{destination}' already exists (use --force to overwrite it)");
            }

            if (parse.GetValue(bundle))
            {
                var tar = await BundleExport.WriteAsync(app.Store, app.Keys, manifest, destination, overwrite, ct).ConfigureAwait(false);
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"exported the control-plane bundle of {manifest.Cluster}/{manifest.BackupId} ({tar.TarSize} bytes, sha256 {tar.TarSha256}) to {destination}")).ConfigureAwait(false);
                return 0;
            }

            using var snapshot = await OpenAsync(app, manifest, ct).ConfigureAwait(false);
            var status = await SnapshotInspector.InspectAsync(snapshot.Handle, new SnapshotInspectionOptions
            {
                Trailer = SnapshotTrailerMode.Present,
                VerifyTrailer = false,
                TotalKeySemantics = manifest.Source.EtcdVersion.StartsWith("3.6", StringComparison.Ordinal) ? TotalKeySemantics.Etcd36 : TotalKeySemantics.Etcd34,
            }, ct).ConfigureAwait(false);
            if (status.Revision != manifest.Snapshot.Revision || status.Hash != manifest.Snapshot.Hash)
            {
                throw new InvalidDataException(
                    $"backup {manifest.BackupId}: snapshot revision {status.Revision} / hash {status.Hash} differ from the manifest's {manifest.Snapshot.Revision} / {manifest.Snapshot.Hash}");
            }

            await snapshot.ExportAsync(destination, overwrite, ct).ConfigureAwait(false);
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"exported {manifest.Cluster}/{manifest.BackupId} (revision {manifest.Snapshot.Revision}, {manifest.Snapshot.Size} bytes, sha256 {manifest.Snapshot.Sha256}) to {destination}")).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Resolves <c>ID|latest</c>. <c>--cluster</c> may be left out only when one cluster is configured (an id then
    /// names its cluster unambiguously, and <c>latest</c> has only one meaning).
    /// </summary>
    internal static async Task<BackupManifest> ResolveAsync(BackupApplication app, string id, string? cluster, CancellationToken cancellationToken)
    {
        var clusters = app.Options.Clusters.Keys.Order(StringComparer.Ordinal).ToList();
        if (cluster is null)
        {
            cluster = clusters.Count switch
            {
                0 => throw new InvalidOperationException("no cluster is configured (add Clusters:<name>:Endpoints to the configuration)"),
                1 => clusters[0],
                _ => throw new ArgumentException($"--cluster is required when more than one cluster is configured ({string.Join(", ", clusters)})"),
            };
        }
        else
        {
            app.SelectClusters(cluster);
        }

        if (string.Equals(id, "latest", StringComparison.OrdinalIgnoreCase))
        {
            return await app.Catalog.GetLatestAsync(cluster, cancellationToken).ConfigureAwait(false)
                ?? throw new KeyNotFoundException($"cluster '{cluster}' has no backup in {app.Store.Description}");
        }

        return await app.FindBackupAsync(id, cluster, cancellationToken).ConfigureAwait(false);
    }

    private static Task<DecryptedSnapshot> OpenAsync(BackupApplication app, BackupManifest manifest, CancellationToken cancellationToken) =>
        DecryptedSnapshot.OpenAsync(app.Store, app.Keys, manifest, app.Environment.Pipeline.TempDirectory, cancellationToken);

    private static async Task<LiveKeyspace> ReadKeyspaceAsync(BackupApplication app, BackupManifest manifest, string? prefix, bool hashValues, CancellationToken cancellationToken)
    {
        using var snapshot = await OpenAsync(app, manifest, cancellationToken).ConfigureAwait(false);
        var prefixBytes = Encoding.UTF8.GetBytes(prefix ?? "");
        var keyspace = await Task.Run(() => KeyspaceReader.ReadLiveKeys(snapshot.Handle, snapshot.DataLength, prefixBytes, hashValues, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (keyspace.Revision != manifest.Snapshot.Revision)
        {
            throw new InvalidDataException($"backup {manifest.BackupId}: snapshot revision {keyspace.Revision} differs from the manifest's {manifest.Snapshot.Revision}");
        }

        return keyspace;
    }
}
