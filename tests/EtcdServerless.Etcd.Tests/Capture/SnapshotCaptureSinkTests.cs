using EtcdServerless.Etcd.Capture;
using EtcdServerless.Etcd.Endpoints;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Etcd.Tests.Capture;

/// <summary>The shared capture path with a caller's sink (what the backup activity plugs in).</summary>
[Trait("Category", "Etcd")]
public sealed class SnapshotCaptureSinkTests
{
    [Fact]
    public async Task StreamAsync_SinkRejectsFirstSnapshotAsInvalid_NextMemberTriedAndFirstSinkDiscarded()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await cluster.EtcdCtlAsync("put", "/registry/a", "b");
        var plan = SnapshotSourcePlan.FromEndpoints([cluster.ClientUris[0], cluster.ClientUris[0]]);
        var sinks = new List<RecordingSink>();

        var result = await new SnapshotCapture(cluster.ClientOptions()).StreamAsync<string>(plan, (start, _) =>
        {
            var sink = new RecordingSink(rejectAsInvalid: start.Attempt == 1);
            sinks.Add(sink);
            return ValueTask.FromResult<ISnapshotSink<string>>(sink);
        });

        Assert.Equal(2, sinks.Count);
        Assert.True(sinks[0].Disposed);
        Assert.False(sinks[0].Completed);
        Assert.True(sinks[1].Completed);
        Assert.True(sinks[1].Disposed);
        Assert.Equal(2, result.Attempts.Count);
        Assert.False(result.Attempts[0].Succeeded);
        Assert.Contains("bbolt says no", result.Attempts[0].Error, StringComparison.Ordinal);
        Assert.Equal(result.Summary.Digest.FileSize, sinks[1].Bytes);
        Assert.Equal(result.Summary.Digest.Sha256Hex, result.Value);
    }

    [Fact]
    public async Task StreamAsync_SinkWriteFails_NotRetriedAndFaultSurfaces()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        var plan = SnapshotSourcePlan.FromEndpoints([cluster.ClientUris[0], cluster.ClientUris[0]]);
        var opened = 0;

        var ex = await Assert.ThrowsAsync<IOException>(() => new SnapshotCapture(cluster.ClientOptions()).StreamAsync<string>(plan, (_, _) =>
        {
            opened++;
            return ValueTask.FromResult<ISnapshotSink<string>>(new RecordingSink(failWrites: true));
        }));

        Assert.Equal("disk full", ex.Message);
        Assert.Equal(1, opened);
    }

    private sealed class RecordingSink(bool rejectAsInvalid = false, bool failWrites = false) : ISnapshotSink<string>
    {
        public long Bytes { get; private set; }

        public bool Completed { get; private set; }

        public bool Disposed { get; private set; }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
        {
            if (failWrites)
            {
                throw new IOException("disk full");
            }

            Bytes += chunk.Length;
            return ValueTask.CompletedTask;
        }

        public ValueTask<string> CompleteAsync(SnapshotStreamSummary summary, CancellationToken cancellationToken)
        {
            if (rejectAsInvalid)
            {
                throw new InvalidDataException("bbolt says no");
            }

            Completed = true;
            return ValueTask.FromResult(summary.Digest.Sha256Hex);
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
