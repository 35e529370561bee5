using System.Text.Json;
using System.Text.Json.Serialization;

namespace EtcdServerless.Cli.Output;

/// <summary>The JSON the CLI prints (<c>-o json</c>) and the HTTP API returns: camelCase, enums as strings, indented.</summary>
internal static class CliJson
{
    public static JsonSerializerOptions Options { get; } = Create(indented: true);

    public static JsonSerializerOptions Compact { get; } = Create(indented: false);

    public static Task WriteAsync<T>(TextWriter writer, T value, CancellationToken cancellationToken = default) =>
        writer.WriteLineAsync(JsonSerializer.Serialize(value, Options).AsMemory(), cancellationToken);

    private static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = indented,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
