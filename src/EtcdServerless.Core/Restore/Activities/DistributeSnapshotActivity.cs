using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Orchestration;

namespace EtcdServerless.Core.Restore.Activities;

/// <summary>
/// Reads and decrypts the artifact once and streams the plaintext to every agent of one wave (<see cref="RestoreDistribution"/>)
/// at the same time (one upload per agent, paced by the slowest), instead of each member downloading and decrypting it
/// again. Each agent checks the SHA-256 of what it received; a member whose upload fails is reported, the others go on.
/// </summary>
internal sealed class DistributeSnapshotActivity(RestoreServices services) : IActivity<DistributeSnapshotInput, DistributeSnapshotOutput>
{
    public const string ActivityName = "RestoreDistributeSnapshot";

    public string Name => ActivityName;

    public async Task<DistributeSnapshotOutput> RunAsync(DistributeSnapshotInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var started = services.Time.GetUtcNow();
        var broadcast = new BroadcastStreams(input.Members.Count);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var uploads = input.Members.Select((member, i) => UploadAsync(member, broadcast, i, input, abort.Token)).ToArray();
        string? sourceError = null;
        try
        {
            await PumpAsync(input, broadcast, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EnvelopeException or IOException or Storage.BackupStoreException or InvalidDataException)
        {
            // A damaged or unreadable artifact fails every upload (the pump faulted every reader): report it on each member.
            sourceError = ex.Message;
        }

        var results = await Task.WhenAll(uploads).ConfigureAwait(false);
        var finished = services.Time.GetUtcNow();
        return new DistributeSnapshotOutput([.. input.Members.Zip(results, (member, error) =>
        {
            var failure = sourceError ?? error;
            return new MemberStepOutput
            {
                Name = member.Name,
                Step = new RestoreMemberStep("upload", failure is null, started, finished, failure),
                State = failure is null ? "received" : "stopped",
                Error = failure,
            };
        })]);
    }

    private async Task PumpAsync(DistributeSnapshotInput input, BroadcastStreams broadcast, CancellationToken cancellationToken)
    {
        if (input.SourceFile is { } file)
        {
            // A plain file given to restore run --from-file: its database part, then a fresh sha256 trailer.
            var plainFile = PlainSnapshotFile.OpenRead(file, input.SnapshotSize);
            await using (plainFile.ConfigureAwait(false))
            {
                await broadcast.PumpAsync(plainFile, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        var artifact = await services.Store.OpenReadAsync(input.ArtifactName, 0, null, cancellationToken).ConfigureAwait(false);
        await using (artifact.ConfigureAwait(false))
        {
            var plain = await EnvelopeReadStream.OpenAsync(artifact, services.Keys, leaveOpen: true, cancellationToken).ConfigureAwait(false);
            await using (plain.ConfigureAwait(false))
            {
                await broadcast.PumpAsync(plain, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<string?> UploadAsync(RestoreTargetMember member, BroadcastStreams broadcast, int index, DistributeSnapshotInput input, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await services.Agents.UploadSnapshotAsync(member.AgentUrl, input.RestoreId, broadcast.Readers[index], input.SnapshotSha256, input.SnapshotSize, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ex is AgentCallException or IOException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            broadcast.Drop(index);
            return ex.Message;
        }
    }
}

/// <summary>Input of <see cref="DistributeSnapshotActivity"/>.</summary>
internal sealed record DistributeSnapshotInput(string RestoreId, string ArtifactName, string SnapshotSha256, long SnapshotSize, IReadOnlyList<RestoreTargetMember> Members)
{
    /// <summary>A plain snapshot file to stream instead of the artifact (<see cref="PlainSnapshotFile"/>).</summary>
    public string? SourceFile { get; init; }
}

/// <summary>One upload outcome per member, in the input's order.</summary>
internal sealed record DistributeSnapshotOutput(IReadOnlyList<MemberStepOutput> Members);
