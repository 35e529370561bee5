using System.Security.Cryptography;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Etcd.Tests.Client;

[Trait("Category", "Etcd")]
public sealed class EtcdClientSnapshotTests
{
    [Fact]
    public async Task SnapshotAsync_Stream_DbChunksWithRemainingBytesThenShaMessage()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();
        var value = new byte[50_000];
        for (var i = 0; i < 10; i++)
        {
            await client.PutAsync(System.Text.Encoding.UTF8.GetBytes($"k{i}"), value);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunks = new List<(int Length, ulong Remaining)>();
        byte[]? last = null;
        await foreach (var chunk in client.SnapshotAsync())
        {
            if (last is not null)
            {
                hash.AppendData(last);
            }

            last = chunk.Blob.ToArray();
            chunks.Add((chunk.Blob.Length, chunk.RemainingBytes));
        }

        var dbSize = (long)chunks[0].Remaining + chunks[0].Length;
        Assert.True(chunks.Count >= 3);
        Assert.Equal(32, chunks[^1].Length);
        Assert.Equal(0ul, chunks[^1].Remaining);
        Assert.Equal(dbSize, chunks.Take(chunks.Count - 1).Sum(c => (long)c.Length));
        Assert.All(chunks.Take(chunks.Count - 2), c => Assert.Equal(32 * 1024, c.Length));
        Assert.Equal(hash.GetHashAndReset(), last);
        Assert.Equal(0, dbSize % 4096);
    }

    [Fact]
    public async Task SnapshotAsync_ConsumerStopsEarly_ClientStaysUsable()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();
        await client.PutAsync("k", new string('x', 100_000));

        await foreach (var chunk in client.SnapshotAsync())
        {
            Assert.False(chunk.Blob.IsEmpty);
            break;
        }

        Assert.Equal(1, await client.CountAsync());
    }
}
