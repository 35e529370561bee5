using System.Text.Json;
using System.Text.Json.Serialization;

namespace EtcdServerless.Core.Orchestration;

/// <summary>
/// The one serializer of orchestration inputs, outputs, custom status and history (camelCase, enums as
/// strings): the Durable data converter of every host, and what the HTTP API and tests read payloads with.
/// </summary>
internal static class OrchestrationJson
{
    /// <summary>Shared options (do not mutate).</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Deserializes; a null/empty payload gives <c>default</c>.</summary>
    public static T? Deserialize<T>(string? json) =>
        string.IsNullOrEmpty(json) ? default : JsonSerializer.Deserialize<T>(json, Options);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
