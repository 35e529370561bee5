using EtcdServerless.Core.Browse;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;

namespace EtcdServerless.Core.Deltas;

/// <summary>
/// A plan's inputs read from the store on this host: the full backup decrypted and checked against its manifest, the
/// segments through <see cref="DeltaCatalog.ReadAsync"/> (MAC, sealed identity, format, size and SHA-256).
/// </summary>
internal sealed class StoreReplaySource(IBackupStore store, IKeyStore keys, MaterializePlan plan) : IReplaySource
{
    private readonly DeltaCatalog _deltas = new(store, keys);

    public IReadOnlyList<ReplaySegment> Segments { get; } = [.. plan.Segments.Select(s => new ReplaySegment(s.SegmentId, DeltaCatalog.Label(s), s.ToRevision))];

    public Task WriteBaseAsync(string path, CancellationToken cancellationToken = default) =>
        DecryptedSnapshot.DecryptAsync(store, keys, plan.Base, path, cancellationToken);

    public IAsyncEnumerable<EtcdRevisionEvents> ReadAsync(int index, CancellationToken cancellationToken = default) =>
        _deltas.ReadAsync(plan.Segments[index], cancellationToken);

    // Everything the replay needed was read and checked as it went; segments it was past need no reading.
    public Task CompleteAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}
