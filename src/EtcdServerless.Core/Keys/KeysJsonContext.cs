using System.Text.Json.Serialization;

namespace EtcdServerless.Core.Keys;

/// <summary>On-disk form of one local KEK version.</summary>
internal sealed class KeyFile
{
    public string Version { get; set; } = "";

    public DateTimeOffset Created { get; set; }

    /// <summary>Base64 of the 32 key bytes.</summary>
    public string Key { get; set; } = "";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(KeyFile))]
internal sealed partial class KeysJsonContext : JsonSerializerContext;
