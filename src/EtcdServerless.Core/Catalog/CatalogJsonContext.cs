using System.Text.Json.Serialization;

namespace EtcdServerless.Core.Catalog;

/// <summary>Source-generated JSON for manifests: camelCase, indented, stable property order (declaration order).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(BackupManifest))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext;
