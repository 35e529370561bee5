using System.Text.Json.Serialization;

namespace EtcdServerless.Core.Storage;

/// <summary>Sidecar metadata of one object in the local store.</summary>
internal sealed class LocalObjectMetadata
{
    public string ContentType { get; set; } = "application/octet-stream";

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset RetainUntil { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(LocalObjectMetadata))]
[JsonSerializable(typeof(SortedDictionary<string, string>))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
