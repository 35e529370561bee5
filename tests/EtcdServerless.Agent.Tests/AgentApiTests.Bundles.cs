using System.Formats.Tar;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Agent.Tests;

/// <summary>The agent's bundle endpoints refuse what would write or read outside Agent:Bundle:Paths.</summary>
public sealed partial class AgentApiTests
{
    [Fact]
    public async Task Bundle_Collect_StoresALinkAsALinkAndNeverReadsThroughIt()
    {
        var root = _temp.Combine("cp");
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(_temp.Combine("outside-secret.txt"), "outside-content");
        File.CreateSymbolicLink(Path.Combine(root, "escape"), _temp.Combine("outside-secret.txt"));
        _options.Bundle.Paths = [root];

        var response = await _http.GetAsync(Url("v1/bundle"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), response.Headers.GetValues(AgentProtocol.BundleSha256Header).Single());
        using var reader = new TarReader(new MemoryStream(bytes));
        var entries = new List<TarEntry>();
        while (reader.GetNextEntry() is { } entry)
        {
            entries.Add(entry);
        }

        var link = Assert.Single(entries, e => e.Name.EndsWith("/escape", StringComparison.Ordinal));
        Assert.Equal(TarEntryType.SymbolicLink, link.EntryType);
        Assert.DoesNotContain("outside-content", System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);

        _options.Bundle.Paths = [];
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(Url("v1/bundle"))).StatusCode);
    }

    [Fact]
    public async Task Bundle_Put_RefusesEntriesOutsideTheRootsLinksOutAndWritesThroughLinks()
    {
        var root = _temp.Combine("cp");
        var outside = _temp.Combine("outside");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(outside);
        File.CreateSymbolicLink(Path.Combine(root, "linked"), outside);
        _options.Bundle.Paths = [root];
        var name = root.TrimStart('/');

        // Not restored yet: refused.
        Assert.Equal(HttpStatusCode.NotFound, (await PutBundleAsync("b1", Tar(("file", name + "/a.txt", "x")))).StatusCode);
        await _http.PostAsync(Url("v1/restores/b1/stop"), null);
        Assert.Equal(HttpStatusCode.Conflict, (await PutBundleAsync("b1", Tar(("file", name + "/a.txt", "x")))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync("b1", _sha)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsJsonAsync(Url("v1/restores/b1/restore"), RestoreRequest(), AgentProtocol.Json)).StatusCode);

        var escapes = new[]
        {
            (Tar(("file", name + "/ok.txt", "fine"), ("file", outside.TrimStart('/') + "/evil.txt", "x")), HttpStatusCode.BadRequest, "outside Agent:Bundle:Paths"),
            (Tar(("file", name + "/ok.txt", "fine"), ("file", name + "/../outside/evil.txt", "x")), HttpStatusCode.BadRequest, "outside Agent:Bundle:Paths"),
            (Tar(("link", name + "/hop", "/etc")), HttpStatusCode.BadRequest, "outside Agent:Bundle:Paths"),
            (Tar(("link", name + "/hop", "../outside")), HttpStatusCode.BadRequest, "outside Agent:Bundle:Paths"),
            (Tar(("file", name + "/linked/evil.txt", "x")), HttpStatusCode.Conflict, "symbolic link"),
        };
        foreach (var (tar, status, message) in escapes)
        {
            var refused = await PutBundleAsync("b1", tar);
            Assert.Equal(status, refused.StatusCode);
            Assert.Contains(message, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Empty(Directory.GetFileSystemEntries(outside));
        Assert.False(File.Exists(Path.Combine(root, "ok.txt"))); // checked whole before anything is written

        var good = Tar(("file", name + "/ok.txt", "fine"));
        var mismatch = await _http.PutAsync(Url("v1/restores/b1/bundle"), Content(good, new string('0', 64)));
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PutBundleAsync("b1", good)).StatusCode);
        Assert.Equal("fine", await File.ReadAllTextAsync(Path.Combine(root, "ok.txt")));
    }

    private Task<HttpResponseMessage> PutBundleAsync(string restoreId, byte[] tar) =>
        _http.PutAsync(Url($"v1/restores/{restoreId}/bundle"), Content(tar, Convert.ToHexStringLower(SHA256.HashData(tar))));

    private static ByteArrayContent Content(byte[] tar, string sha)
    {
        var content = new ByteArrayContent(tar);
        content.Headers.Add(AgentProtocol.BundleSha256Header, sha);
        return content;
    }

    private static byte[] Tar(params (string Kind, string Name, string Value)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (kind, name, value) in entries)
            {
                var entry = kind == "link"
                    ? new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = value }
                    : new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(value)) };
                writer.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }
}
