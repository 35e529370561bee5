using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace EtcdServerless.Azure.Blob;

/// <summary>One blob of a List Blobs page.</summary>
internal sealed record BlobListItem(string Name, long Length, DateTimeOffset LastModified, string? ETag, DateTimeOffset? ImmutableUntil);

/// <summary>One List Blobs page and the marker of the next one (null at the end).</summary>
internal sealed record BlobListPage(IReadOnlyList<BlobListItem> Items, string? NextMarker);

/// <summary>The XML bodies of the Blob REST operations we use.</summary>
internal static class BlobXml
{
    /// <summary><c>&lt;BlockList&gt;&lt;Latest&gt;id&lt;/Latest&gt;...</c> for Put Block List.</summary>
    public static byte[] BlockList(IEnumerable<string> blockIds)
    {
        var sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        foreach (var id in blockIds)
        {
            // Base64 ids need no XML escaping.
            sb.Append("<Latest>").Append(id).Append("</Latest>");
        }

        return Encoding.UTF8.GetBytes(sb.Append("</BlockList>").ToString());
    }

    /// <summary>The Set Blob Tags body.</summary>
    public static byte[] Tags(IReadOnlyDictionary<string, string> tags)
    {
        var tagSet = new XElement("TagSet", tags.Select(t => new XElement("Tag", new XElement("Key", t.Key), new XElement("Value", t.Value))));
        var doc = new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("Tags", tagSet));
        using var ms = new MemoryStream();
        using (var writer = XmlWriter.Create(ms, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Async = false }))
        {
            doc.Save(writer);
        }

        return ms.ToArray();
    }

    /// <summary>Reads a Get Blob Tags body.</summary>
    public static Dictionary<string, string> ParseTags(Stream body)
    {
        var doc = Load(body);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in doc.Descendants("Tag"))
        {
            var key = (string?)tag.Element("Key") ?? throw new InvalidDataException("A blob tag has no Key.");
            result[key] = (string?)tag.Element("Value") ?? "";
        }

        return result;
    }

    /// <summary>Reads a List Blobs page.</summary>
    public static BlobListPage ParseList(Stream body)
    {
        var doc = Load(body);
        var root = doc.Root ?? throw new InvalidDataException("Empty List Blobs answer.");
        var items = new List<BlobListItem>();
        foreach (var blob in root.Descendants("Blob"))
        {
            var name = (string?)blob.Element("Name") ?? throw new InvalidDataException("A listed blob has no Name.");
            var props = blob.Element("Properties") ?? throw new InvalidDataException($"Listed blob '{name}' has no Properties.");
            var length = long.Parse((string?)props.Element("Content-Length") ?? "0", CultureInfo.InvariantCulture);
            var lastModified = ParseHttpDate((string?)props.Element("Last-Modified"))
                ?? throw new InvalidDataException($"Listed blob '{name}' has no Last-Modified.");
            items.Add(new BlobListItem(name, length, lastModified, (string?)props.Element("Etag"),
                ParseHttpDate((string?)props.Element("ImmutabilityPolicyUntilDate"))));
        }

        var next = (string?)root.Element("NextMarker");
        return new BlobListPage(items, string.IsNullOrEmpty(next) ? null : next);
    }

    /// <summary>Parses an RFC 1123 date as the service writes it.</summary>
    public static DateTimeOffset? ParseHttpDate(string? value) =>
        string.IsNullOrEmpty(value)
            ? null
            : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
                ? parsed
                : throw new InvalidDataException($"'{value}' is not an HTTP date.");

    private static XDocument Load(Stream body)
    {
        try
        {
            return XDocument.Load(body);
        }
        catch (XmlException ex)
        {
            throw new InvalidDataException("The Blob service sent malformed XML.", ex);
        }
    }
}
