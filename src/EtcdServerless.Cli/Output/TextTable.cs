using System.Text;

namespace EtcdServerless.Cli.Output;

/// <summary>A plain, aligned text table: stable for scripts and tests, readable in a terminal.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public TextTable AddRow(params string?[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"Expected {headers.Length} cells, got {cells.Length}.", nameof(cells));
        }

        _rows.Add([.. cells.Select(c => c ?? "")]);
        return this;
    }

    public int Count => _rows.Count;

    public async Task WriteAsync(TextWriter writer, CancellationToken cancellationToken = default)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        await writer.WriteLineAsync(Format(headers, widths).AsMemory(), cancellationToken).ConfigureAwait(false);
        foreach (var row in _rows)
        {
            await writer.WriteLineAsync(Format(row, widths).AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Format(string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                line.Append("  ");
            }

            line.Append(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i]));
        }

        return line.ToString();
    }
}
