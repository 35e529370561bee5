using System.Text.Json;
using System.Text.Json.Serialization;

namespace EtcdServerless.Core.Orchestration;

/// <summary>
/// The one serializer of orchestration inputs, outputs, custom status and history (camelCase, enums as
/// strings), so the in-process runner round-trips exactly what Durable would put on the wire.
/// </summary>
internal static class OrchestrationJson
{
    /// <summary>Shared options (do not mutate).</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Serializes by the runtime type of <paramref name="value"/>; null stays null.</summary>
    public static string? Serialize(object? value) =>
        value is null ? null : JsonSerializer.Serialize(value, value.GetType(), Options);

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
