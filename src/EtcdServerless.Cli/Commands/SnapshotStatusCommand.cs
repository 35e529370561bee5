using System.CommandLine;
using System.Globalization;
using System.Text;
using EtcdServerless.Etcd.Inspection;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// <c>etcd-backup snapshot status FILE [-o table|json] [--etcd36] [--skip-hash-check]</c>: the same numbers and
/// shapes as <c>etcdctl snapshot status</c> (3.4/3.5) or, with <c>--etcd36</c>, <c>etcdutl snapshot status</c>.
/// See docs/snapshot-status.md.
/// </summary>
internal static class SnapshotStatusCommand
{
    public static Command Create(CliConsole console)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "Snapshot file (etcdctl snapshot save output, or a raw member/snap/db)." };
        var output = CommonOptions.Output();
        var etcd36 = new Option<bool>("--etcd36")
        {
            Description = "etcd 3.6 semantics: totalKey counts distinct live keys; adds the storage version.",
        };
        var skipHashCheck = new Option<bool>("--skip-hash-check")
        {
            Description = "Do not verify the sha256 trailer (etcdctl's status never does; restore does).",
        };

        var command = new Command("status", "Print hash, revision, total keys and size of a snapshot file (as etcdctl snapshot status).")
        {
            file, output, etcd36, skipHashCheck,
        };
        CommandAction.Set(command, console, async (parse, cancellationToken) =>
        {
            var path = parse.GetRequiredValue(file).FullName;
            var options = new SnapshotInspectionOptions
            {
                TotalKeySemantics = parse.GetValue(etcd36) ? TotalKeySemantics.Etcd36 : TotalKeySemantics.Etcd34,
                VerifyTrailer = !parse.GetValue(skipHashCheck),
            };
            var status = await SnapshotInspector.InspectAsync(path, options, cancellationToken).ConfigureAwait(false);
            var text = parse.GetValue(output) == OutputFormat.Json ? FormatJson(status) : FormatTable(status);
            await console.Out.WriteLineAsync(text).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>etcdctl's <c>-w json</c>: decimal numbers, fixed field order, one line.</summary>
    internal static string FormatJson(SnapshotStatus status)
    {
        var json = string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"hash\":{status.Hash},\"revision\":{status.Revision},\"totalKey\":{status.TotalKey},\"totalSize\":{status.TotalSize}");
        if (status.Version is not null)
        {
            json += ",\"version\":\"" + System.Text.Json.JsonEncodedText.Encode(status.Version).ToString() + "\"";
        }

        return json + "}";
    }

    /// <summary>etcdctl's table: hash in hex, size in SI units.</summary>
    internal static string FormatTable(SnapshotStatus status)
    {
        List<(string Header, string Value)> columns =
        [
            ("HASH", status.Hash.ToString("x", CultureInfo.InvariantCulture)),
            ("REVISION", status.Revision.ToString(CultureInfo.InvariantCulture)),
            ("TOTAL KEYS", status.TotalKey.ToString(CultureInfo.InvariantCulture)),
            ("TOTAL SIZE", HumanBytes(status.TotalSize)),
        ];
        if (status.Version is not null)
        {
            columns.Add(("VERSION", status.Version));
        }

        var widths = columns.Select(c => Math.Max(c.Header.Length, c.Value.Length)).ToArray();
        var rule = "+" + string.Join('+', widths.Select(w => new string('-', w + 2))) + "+";
        var header = "|" + string.Join('|', columns.Select((c, i) => " " + Center(c.Header, widths[i]) + " ")) + "|";
        var row = "|" + string.Join('|', columns.Select((c, i) => " " + c.Value.PadLeft(widths[i]) + " ")) + "|";
        return new StringBuilder()
            .AppendLine(rule).AppendLine(header).AppendLine(rule).AppendLine(row).Append(rule)
            .ToString();
    }

    /// <summary>go-humanize's <c>Bytes</c>: powers of 1000, one decimal below 10.</summary>
    internal static string HumanBytes(long bytes)
    {
        if (bytes < 10)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes} B");
        }

        string[] units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
        var exponent = (int)Math.Floor(Math.Log(bytes) / Math.Log(1000));
        var value = Math.Floor((bytes / Math.Pow(1000, exponent) * 10) + 0.5) / 10;
        var format = value < 10 ? "{0:0.0} {1}" : "{0:0} {1}";
        return string.Format(CultureInfo.InvariantCulture, format, value, units[exponent]);
    }

    private static string Center(string text, int width)
    {
        var gap = width - text.Length;
        var left = gap / 2;
        return new string(' ', left) + text + new string(' ', gap - left);
    }
}
