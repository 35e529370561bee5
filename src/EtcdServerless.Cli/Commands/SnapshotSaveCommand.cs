using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EtcdServerless.Cli.Output;
using EtcdServerless.Etcd.Capture;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Endpoints;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// <c>etcd-backup snapshot save FILE --endpoints URL[,URL...] [--cacert F --cert F --key F] [--user U:P] [--dial-timeout 5s] [-w|-o table|json]</c>
/// (flags default to etcdctl's <c>ETCDCTL_*</c> variables):
/// picks a healthy member (followers first), streams a snapshot, verifies its sha256 trailer and writes a file
/// byte-identical to <c>etcdctl snapshot save</c>; falls back to the next member if the stream breaks.
/// </summary>
internal static class SnapshotSaveCommand
{
    public static Command Create(CliConsole console)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "Where to write the snapshot (written as FILE.part, renamed when verified)." };
        // Each flag falls back to etcdctl's environment variable, so an etcdctl shell setup works as is.
        var endpoints = new Option<string>("--endpoints")
        {
            Description = "Comma-separated client URLs of one or more members (others are discovered via MemberList); default $ETCDCTL_ENDPOINTS.",
            DefaultValueFactory = result => EtcdctlEnvironment.Read("ETCDCTL_ENDPOINTS") ?? EtcdctlEnvironment.Missing(result, "--endpoints is required (or set ETCDCTL_ENDPOINTS)"),
        };
        var caCert = new Option<FileInfo?>("--cacert")
        {
            Description = "PEM CA bundle that signs the members' server certificates (default $ETCDCTL_CACERT).",
            DefaultValueFactory = _ => EtcdctlEnvironment.File("ETCDCTL_CACERT"),
        };
        var cert = new Option<FileInfo?>("--cert")
        {
            Description = "PEM client certificate, etcd --client-cert-auth (default $ETCDCTL_CERT).",
            DefaultValueFactory = _ => EtcdctlEnvironment.File("ETCDCTL_CERT"),
        };
        var key = new Option<FileInfo?>("--key") { Description = "PEM key of --cert (default $ETCDCTL_KEY).", DefaultValueFactory = _ => EtcdctlEnvironment.File("ETCDCTL_KEY") };
        var user = new Option<string?>("--user")
        {
            Description = "USER:PASSWORD for etcd auth, the snapshot needs the root role (default $ETCDCTL_USER).",
            DefaultValueFactory = _ => EtcdctlEnvironment.Read("ETCDCTL_USER"),
        };
        var dialTimeout = CommonOptions.DialTimeout();
        var output = CommonOptions.Output();

        var command = new Command("save", "Stream a verified snapshot from etcd to a file (etcdctl-compatible).")
        {
            file, endpoints, caCert, cert, key, user, dialTimeout, output,
        };
        CommandAction.Set(command, console, async (parse, cancellationToken) =>
        {
            var path = parse.GetRequiredValue(file).FullName;
            if (Path.GetDirectoryName(path) is { } folder && !Directory.Exists(folder))
            {
                // Checked before connecting, so the error names the folder instead of a staging file inside it.
                throw new DirectoryNotFoundException($"output folder '{folder}' does not exist (create it first, or choose another FILE)");
            }

            var uris = EtcdClientOptions.ParseEndpoints(parse.GetRequiredValue(endpoints));
            var (username, password) = parse.GetValue(user) is { } u ? EtcdClientOptions.ParseUser(u) : ((string?)null, (string?)null);
            var template = new EtcdClientOptions
            {
                Endpoint = uris[0],
                CaFile = ExistingFile(parse.GetValue(caCert), "--cacert"),
                CertFile = ExistingFile(parse.GetValue(cert), "--cert"),
                KeyFile = ExistingFile(parse.GetValue(key), "--key"),
                Username = username,
                Password = password,
                DialTimeout = parse.GetValue(dialTimeout),
            };
            if (template.CertFile is null != template.KeyFile is null)
            {
                throw new ArgumentException("--cert and --key must be given together.");
            }

            var plan = await new SnapshotSourceSelector(template).SelectAsync(uris, cancellationToken).ConfigureAwait(false);
            foreach (var rejected in plan.Rejected)
            {
                await console.Error.WriteLineAsync($"note: skipping {rejected.Name} ({rejected.Endpoint}): {rejected.Reason}").ConfigureAwait(false);
            }

            if (plan.Ranked.Count > 0)
            {
                await console.Error.WriteLineAsync($"note: streaming from {plan.Ranked[0].Name} ({plan.Ranked[0].Endpoint}): {plan.Ranked[0].Reason}").ConfigureAwait(false);
            }

            var meter = new ProgressLine(console, new CliProgress(console).Interactive);
            var hooks = new SnapshotCaptureHooks
            {
                OnAttemptStart = async (start, ct) =>
                {
                    if (start.Attempt > 1)
                    {
                        meter.Clear();
                        await console.Error.WriteLineAsync($"note: retrying from {start.Source.Name} ({start.Source.Endpoint})").ConfigureAwait(false);
                    }
                },
                Progress = meter.Report,
            };
            SnapshotCaptureResult result;
            try
            {
                result = await new SnapshotCapture(template).CaptureAsync(plan, path, hooks, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                meter.Clear();
            }

            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await CliJson.WriteAsync(console.Out, ToJson(result, plan), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await WriteTableAsync(console.Out, result, cancellationToken).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    private static string? ExistingFile(FileInfo? file, string option) =>
        file is null ? null : file.Exists ? file.FullName : throw new ArgumentException($"{option}: file '{file.FullName}' does not exist.");

    private static async Task WriteTableAsync(TextWriter writer, SnapshotCaptureResult r, CancellationToken cancellationToken)
    {
        var table = new TextTable("FIELD", "VALUE")
            .AddRow("file", r.FilePath)
            .AddRow("member", $"{r.Source.Name} ({r.Source.MemberIdHex}) {r.Source.Endpoint}")
            .AddRow("chosen because", r.Source.Reason)
            .AddRow("size", string.Create(CultureInfo.InvariantCulture, $"{r.FileSize} bytes (database {r.DbSize} + 32-byte sha256 trailer)"))
            .AddRow("sha256", r.Sha256Hex)
            .AddRow("attempts", string.Join("; ", r.Attempts.Select(a => a.Succeeded ? $"{a.Member}: ok" : $"{a.Member}: {a.Error}")))
            .AddRow("duration", string.Create(CultureInfo.InvariantCulture, $"{r.Duration.TotalSeconds:0.00} s"));
        if (r.ServerStorageVersion.Length > 0)
        {
            table.AddRow("storage version", r.ServerStorageVersion);
        }

        await table.WriteAsync(writer, cancellationToken).ConfigureAwait(false);
    }

    private static object ToJson(SnapshotCaptureResult r, SnapshotSourcePlan plan) => new
    {
        file = r.FilePath,
        size = r.FileSize,
        dbSize = r.DbSize,
        sha256 = r.Sha256Hex,
        member = new
        {
            id = r.Source.MemberIdHex,
            name = r.Source.Name,
            endpoint = r.Source.Endpoint.ToString(),
            leader = r.Source.IsLeader,
            raftTerm = r.Source.RaftTerm,
            raftAppliedIndex = r.Source.RaftAppliedIndex,
            version = r.Source.Version,
            reason = r.Source.Reason,
        },
        storageVersion = r.ServerStorageVersion.Length > 0 ? r.ServerStorageVersion : null,
        attempts = r.Attempts.Select(a => new { a.Attempt, member = a.Member, endpoint = a.Endpoint.ToString(), a.BytesReceived, a.Succeeded, a.Error }),
        skipped = plan.Rejected.Select(x => new { name = x.Name, endpoint = x.Endpoint?.ToString(), reason = x.Reason }),
        durationSeconds = Math.Round(r.Duration.TotalSeconds, 3),
    };

    /// <summary>A single self-overwriting progress line on stderr, only on an interactive terminal, at most 10 updates/s.</summary>
    private sealed class ProgressLine(CliConsole console, bool interactive)
    {
        private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(100);
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        // Null until the first update: a TimeSpan.MinValue sentinel overflowed in the subtraction below.
        private TimeSpan? _last;
        private bool _shown;

        public void Report(long done, long? total)
        {
            var now = _clock.Elapsed;
            if (!interactive || (_last is { } last && now - last < s_interval && done != total))
            {
                return;
            }

            _last = now;
            var text = total is { } t and > 0
                ? string.Create(CultureInfo.InvariantCulture, $"\r  {Mib(done)} / {Mib(t)} MiB ({100.0 * done / t:0}%)   ")
                : string.Create(CultureInfo.InvariantCulture, $"\r  {Mib(done)} MiB   ");
            console.Error.Write(text);
            _shown = true;
        }

        public void Clear()
        {
            if (_shown)
            {
                console.Error.Write("\r" + new string(' ', 40) + "\r");
                _shown = false;
            }
        }

        private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
    }
}
