namespace EtcdServerless.Core.Storage;

/// <summary>What <see cref="IBackupStore.InitializeAsync"/> found and did.</summary>
/// <param name="Store">The store's secret-free description.</param>
/// <param name="Created">True when this call created the container or folder; false when it already existed.</param>
/// <param name="Immutability">The protection found, in words (e.g. "version-level immutability enabled on the container").</param>
/// <param name="Protected">True when something beyond this program's goodwill stops deletion before retention ends.</param>
public sealed record StoreInitResult(string Store, bool Created, string Immutability, bool Protected)
{
    /// <summary>Things the operator should fix or know (e.g. "no immutability policy").</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
