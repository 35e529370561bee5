using System.Globalization;
using System.Text;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Errors;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Etcd.Tests.Client;

[Trait("Category", "Etcd")]
public sealed class WindowedHistoryReaderTests
{
    private static readonly byte[] s_all = [0];

    [Theory]
    [InlineData(1L)] // every revision alone fills a window's buffer: windows ahead pause until their turn
    [InlineData(4L * 1024 * 1024)]
    public async Task ReadAsync_SeveralWindows_ReturnsTheSameHistoryAsOneWatch(long bufferBytes)
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();
        var (from, to) = await WriteRevisionsAsync(client, 2_600);
        var options = new WindowedHistoryOptions { MaxWindows = 3, MinWindowRevisions = 250, MaxWindowRevisions = 400, BufferBytesPerWindow = bufferBytes };

        var windowed = await ReadAllAsync(new WindowedHistoryReader(client, options).ReadAsync(from, to, TimeSpan.FromSeconds(30)));
        var single = await ReadAllAsync(client.WatchHistoryAsync(s_all, s_all, from, to, TimeSpan.FromSeconds(30)));

        Assert.Equal(to - from + 1, windowed.Count);
        Assert.Equal(Enumerable.Range(0, windowed.Count).Select(i => from + i), windowed.Select(r => r.Revision));
        Assert.Equal(Describe(single), Describe(windowed));
    }

    [Fact]
    public async Task ReadAsync_OneRevision_ReturnsIt()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();
        var put = await client.PutAsync("one", "1");

        var read = await ReadAllAsync(new WindowedHistoryReader(client).ReadAsync(put.Header.Revision, put.Header.Revision, TimeSpan.FromSeconds(30)));

        var only = Assert.Single(read);
        Assert.Equal(put.Header.Revision, only.Revision);
        Assert.Equal("one", Assert.Single(only.Events).Kv.KeyString);
    }

    [Fact]
    public async Task ReadAsync_FirstRevisionCompacted_ThrowsCompactedNamingIt()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();
        var (from, to) = await WriteRevisionsAsync(client, 50);
        await client.CompactAsync(from + 10);

        var ex = await Assert.ThrowsAsync<EtcdCompactedException>(() =>
            ReadAllAsync(new WindowedHistoryReader(client, new WindowedHistoryOptions { MinWindowRevisions = 10 }).ReadAsync(from, to, TimeSpan.FromSeconds(30))));

        Assert.Equal(from, ex.RequestedRevision);
        Assert.Equal(from + 10, ex.CompactRevision);
    }

    [Fact]
    public async Task ReadAsync_ReaderStopsEarly_LeavesNoWatchOnTheMember()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();
        var (from, to) = await WriteRevisionsAsync(client, 2_000);
        // A one-byte buffer keeps the windows ahead paused, their watches open, while the first is read.
        var reader = new WindowedHistoryReader(client, new WindowedHistoryOptions { MaxWindows = 4, MinWindowRevisions = 100, MaxWindowRevisions = 100, BufferBytesPerWindow = 1 });

        var seen = 0;
        await foreach (var revision in reader.ReadAsync(from, to, TimeSpan.FromSeconds(30)))
        {
            if (++seen == 1)
            {
                Assert.True(await WatchersAsync(cluster) > 1);
            }

            if (seen == 150)
            {
                break;
            }
        }

        // The member drops a watcher when its stream is cancelled; give it a moment to notice.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await WatchersAsync(cluster) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, await WatchersAsync(cluster));
    }

    [Theory]
    [InlineData(3_999, 1_000)]
    [InlineData(4_000, 1_000)]
    [InlineData(4_001, 1_001)]
    [InlineData(80_000, 20_000)]
    [InlineData(80_004, 20_000)]
    [InlineData(1, 1_000)]
    public void WindowSize_Revisions_SplitsOverTheWindowsWithinBounds(long revisions, long expected)
    {
        var reader = new WindowedHistoryReader(null!, new WindowedHistoryOptions { MaxWindows = 4, MinWindowRevisions = 1_000, MaxWindowRevisions = 20_000 });

        Assert.Equal(expected, reader.WindowSize(revisions));
    }

    [Theory]
    [InlineData(0, 1_000, 20_000, 1)]
    [InlineData(4, 0, 20_000, 1)]
    [InlineData(4, 1_000, 999, 1)]
    [InlineData(4, 1_000, 20_000, 0)]
    public void Constructor_ImpossibleOptions_Throws(int windows, int min, int max, long buffer)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowedHistoryReader(null!,
            new WindowedHistoryOptions { MaxWindows = windows, MinWindowRevisions = min, MaxWindowRevisions = max, BufferBytesPerWindow = buffer }));
    }

    [Fact]
    public async Task WatchHistoryAsync_ConsumerSlowerThanTheIdleTimeout_KeepsTheWatch()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();
        // More than one sync pass of the member (1,000 revisions), so the rest arrives in later responses.
        var (from, to) = await WriteRevisionsAsync(client, 2_500);

        var count = 0;
        await foreach (var revision in client.WatchHistoryAsync(s_all, s_all, from, to, TimeSpan.FromSeconds(1)))
        {
            if (count++ == 0)
            {
                // A slow store: the revisions in hand take longer to write than the watch may stay silent.
                await Task.Delay(TimeSpan.FromSeconds(2.5));
            }
        }

        Assert.Equal(to - from + 1, count);
    }

    private static async Task<(long From, long To)> WriteRevisionsAsync(EtcdClient client, int count)
    {
        var first = (await client.PutAsync("k/start", "s")).Header.Revision;
        using var gate = new SemaphoreSlim(32);
        var writes = Enumerable.Range(1, count - 1).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                // Overwrites and deletes too, so revisions differ in kind.
                var key = "k/" + (i % 97).ToString(CultureInfo.InvariantCulture);
                if (i % 13 == 0)
                {
                    await client.DeleteAsync("k/start");
                    await client.PutAsync("k/start", new string('v', i % 300));
                }
                else
                {
                    await client.PutAsync(key, new string('v', i % 300));
                }
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(writes);
        var last = (await client.StatusAsync()).Header.Revision;
        return (first, last);
    }

    private static async Task<List<EtcdRevisionEvents>> ReadAllAsync(IAsyncEnumerable<EtcdRevisionEvents> history)
    {
        var all = new List<EtcdRevisionEvents>();
        await foreach (var revision in history)
        {
            all.Add(revision);
        }

        return all;
    }

    private static List<string> Describe(List<EtcdRevisionEvents> history) =>
        [.. history.SelectMany(r => r.Events.Select(e => string.Create(CultureInfo.InvariantCulture,
            $"{r.Revision} {(e.IsDelete ? "D" : "P")} {e.Kv.KeyString} {Encoding.UTF8.GetString(e.Kv.Value)} {e.Kv.CreateRevision} {e.Kv.ModRevision} {e.Kv.Version} {e.Kv.Lease}")))];

    private static async Task<int> WatchersAsync(EtcdTestCluster cluster)
    {
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri(new Uri(cluster.ClientUrls[0]), "/metrics"));
        var line = metrics.Split('\n').Single(l => l.StartsWith("etcd_debugging_mvcc_watcher_total ", StringComparison.Ordinal));
        return (int)double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
    }
}
