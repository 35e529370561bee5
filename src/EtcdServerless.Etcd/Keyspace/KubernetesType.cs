using System.Text.Json;
using Google.Protobuf;

namespace EtcdServerless.Etcd.Keyspace;

/// <summary>What a Kubernetes API server stored under a <c>/registry/...</c> key.</summary>
/// <param name="ApiVersion">The object's apiVersion (e.g. <c>v1</c>, <c>apps/v1</c>); empty when unknown.</param>
/// <param name="Kind">The object's kind (e.g. <c>Pod</c>); empty when unknown.</param>
/// <param name="Encoding"><c>protobuf</c>, <c>json</c>, or <c>encrypted:PROVIDER</c> (encryption at rest: unreadable here).</param>
internal sealed record KubernetesType(string ApiVersion, string Kind, string Encoding)
{
    // The API server's protobuf serializer prefixes values with "k8s\0" before a runtime.Unknown.
    private static ReadOnlySpan<byte> ProtobufMagic => "k8s\0"u8;

    private static ReadOnlySpan<byte> EncryptedPrefix => "k8s:enc:"u8;

    /// <summary>How far into a JSON value the type is looked for (apiVersion and kind come first in practice).</summary>
    private const int JsonScanLimit = 4096;

    /// <summary>Recognizes the value's envelope; null when it is not a Kubernetes object.</summary>
    public static KubernetesType? TryRead(ReadOnlySpan<byte> value)
    {
        if (value.StartsWith(ProtobufMagic))
        {
            return ReadProtobuf(value[ProtobufMagic.Length..]);
        }

        if (value.StartsWith(EncryptedPrefix))
        {
            var rest = value[EncryptedPrefix.Length..];
            var colon = rest.IndexOf((byte)':');
            var provider = System.Text.Encoding.ASCII.GetString(colon < 0 ? rest[..Math.Min(rest.Length, 32)] : rest[..Math.Min(colon, 32)]);
            return new KubernetesType("", "", $"encrypted:{provider}");
        }

        var trimmed = value.TrimStart(" \t\r\n"u8);
        return trimmed.Length > 0 && trimmed[0] == (byte)'{' ? ReadJson(value) : null;
    }

    // runtime.Unknown: typeMeta=1 (TypeMeta: apiVersion=1, kind=2), raw=2, contentEncoding=3, contentType=4.
    private static KubernetesType? ReadProtobuf(ReadOnlySpan<byte> unknown)
    {
        try
        {
            var input = new CodedInputStream(unknown.ToArray());
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) != 1 || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
                {
                    input.SkipLastField();
                    continue;
                }

                var typeMeta = new CodedInputStream(input.ReadBytes().ToByteArray());
                string apiVersion = "", kind = "";
                while ((tag = typeMeta.ReadTag()) != 0)
                {
                    switch (WireFormat.GetTagFieldNumber(tag), WireFormat.GetTagWireType(tag))
                    {
                        case (1, WireFormat.WireType.LengthDelimited):
                            apiVersion = typeMeta.ReadString();
                            break;
                        case (2, WireFormat.WireType.LengthDelimited):
                            kind = typeMeta.ReadString();
                            break;
                        default:
                            typeMeta.SkipLastField();
                            break;
                    }
                }

                return new KubernetesType(apiVersion, kind, "protobuf");
            }

            return new KubernetesType("", "", "protobuf");
        }
        catch (InvalidProtocolBufferException)
        {
            // A value that merely starts with the magic is still shown; it is just not typed.
            return new KubernetesType("", "", "protobuf");
        }
    }

    private static KubernetesType? ReadJson(ReadOnlySpan<byte> value)
    {
        var window = value[..Math.Min(value.Length, JsonScanLimit)];
        var reader = new Utf8JsonReader(window, isFinalBlock: window.Length == value.Length, state: default);
        string? apiVersion = null, kind = null;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    var isApiVersion = reader.ValueTextEquals("apiVersion"u8);
                    var isKind = !isApiVersion && reader.ValueTextEquals("kind"u8);
                    if (!reader.Read())
                    {
                        break;
                    }

                    if (reader.TokenType == JsonTokenType.String && (isApiVersion || isKind))
                    {
                        _ = isApiVersion ? apiVersion = reader.GetString() : kind = reader.GetString();
                        if (apiVersion is not null && kind is not null)
                        {
                            break;
                        }
                    }
                    else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                    {
                        break;
                    }
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return apiVersion is null && kind is null ? null : new KubernetesType(apiVersion ?? "", kind ?? "", "json");
    }
}
