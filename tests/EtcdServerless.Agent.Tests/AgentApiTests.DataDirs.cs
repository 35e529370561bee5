using System.Net;
using System.Net.Http.Json;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Agent.Tests;

/// <summary>Kept data dirs through the agent's API: capped at Agent:KeepPreviousDataDirs, listed, removed by name.</summary>
public sealed partial class AgentApiTests
{
    [Fact]
    public async Task DataDirs_KeepTwo_CapsListsAndRemovesButNeverTheLiveOne()
    {
        _options.KeepPreviousDataDirs = 2;
        foreach (var id in new[] { "d1", "d2", "d3" })
        {
            await RestoreAndStartAsync(id);
        }

        var listed = await _http.GetFromJsonAsync<List<AgentDataDir>>(Url("v1/data-dirs"), AgentProtocol.Json);
        var live = Path.GetFileName(_options.DataDir);
        Assert.Equal([(live, "live"), (live + ".before-d3", "before"), (live + ".before-d2", "before")], listed!.Select(d => (d.Name, d.Kind)));
        Assert.Equal("d3", listed![1].RestoreId);
        Assert.True(listed[2].SizeBytes > 0);
        Assert.False(Directory.Exists(_options.DataDir + ".before-d1"));

        var refused = await _http.DeleteAsync(Url($"v1/data-dirs/{live}"));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("live data dir", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(Directory.Exists(_options.DataDir));
        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync(Url("v1/data-dirs/certs"))).StatusCode);
        Assert.False((await _http.DeleteAsync(Url("v1/data-dirs/%2E%2E"))).IsSuccessStatusCode);
        Assert.True(Directory.Exists(_temp.Combine("certs")));

        var removed = await _http.DeleteAsync(Url($"v1/data-dirs/{live}.before-d2"));
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.False(Directory.Exists(_options.DataDir + ".before-d2"));
        Assert.True(Directory.Exists(_options.DataDir + ".before-d3"));
    }

    [Fact]
    public async Task DataDirs_PrunedCopies_LeaveNothingSetAsideOnceTheAgentStops()
    {
        _options.KeepPreviousDataDirs = 1;
        foreach (var id in new[] { "p1", "p2", "p3" })
        {
            await RestoreAndStartAsync(id);
        }

        // The older copies lose their names at once and their files in the background; disposal waits for that.
        Assert.False(Directory.Exists(_options.DataDir + ".before-p1"));
        Assert.False(Directory.Exists(_options.DataDir + ".before-p2"));
        Assert.True(Directory.Exists(_options.DataDir + ".before-p3"));
        await _app.StopAsync();
        await _app.DisposeAsync();
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(_options.DataDir)!, Path.GetFileName(_options.DataDir) + ".deleting-*"));
        _app = AgentHost.Build(_options, logging: _ => { });
        await AgentHost.StartAsync(_app);
    }

    [Fact]
    public async Task Start_LeftoverSetAsideForDeletion_IsDeleted()
    {
        // What an agent killed in the middle of a background deletion leaves behind.
        var leftover = _options.DataDir + ".deleting-before-old";
        Directory.CreateDirectory(Path.Combine(leftover, "member", "snap"));
        await File.WriteAllTextAsync(Path.Combine(leftover, "member", "snap", "db"), "old");
        await _app.StopAsync();
        await _app.DisposeAsync();

        _app = AgentHost.Build(_options, logging: _ => { });
        await AgentHost.StartAsync(_app);
        await _app.StopAsync();
        await _app.DisposeAsync();

        Assert.False(Directory.Exists(leftover));
        var listed = Directory.GetDirectories(Path.GetDirectoryName(_options.DataDir)!).Select(Path.GetFileName);
        Assert.DoesNotContain(listed, n => n!.Contains(".deleting-", StringComparison.Ordinal));
        _app = AgentHost.Build(_options, logging: _ => { });
        await AgentHost.StartAsync(_app);
    }

    [Fact]
    public async Task DataDirs_KeepZero_KeepsTheCopyPinnedUntilTheStartThenDeletesIt()
    {
        _options.KeepPreviousDataDirs = 0;
        await _http.PostAsync(Url("v1/restores/z1/stop"), null);
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync("z1", _sha)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsJsonAsync(Url("v1/restores/z1/restore"), RestoreRequest(), AgentProtocol.Json)).StatusCode);
        var before = _options.DataDir + ".before-z1";
        Assert.True(Directory.Exists(before));

        // Swapped, not started: the rollback still needs the copy.
        var pinned = await _http.DeleteAsync(Url($"v1/data-dirs/{Path.GetFileName(before)}"));
        Assert.Equal(HttpStatusCode.Conflict, pinned.StatusCode);
        Assert.Contains("restore z1 is under way", await pinned.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(Url("v1/restores/z1/start"), null)).StatusCode);
        Assert.False(Directory.Exists(before));
        var listed = await _http.GetFromJsonAsync<List<AgentDataDir>>(Url("v1/data-dirs"), AgentProtocol.Json);
        Assert.Equal(["live"], listed!.Select(d => d.Kind));
    }

    private async Task RestoreAndStartAsync(string id)
    {
        await _http.PostAsync(Url($"v1/restores/{id}/stop"), null);
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(id, _sha)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsJsonAsync(Url($"v1/restores/{id}/restore"), RestoreRequest(), AgentProtocol.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(Url($"v1/restores/{id}/start"), null)).StatusCode);
    }
}
