using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Workflows.Tests.Backup;

public sealed class BackupVerifierTests
{
    [Fact]
    public async Task VerifyAsync_ByteFlippedInStoredArtifact_FailsShaAndDecrypt()
    {
        // Arrange
        await using var f = await BackupFixture.StartAsync(members: 1);
        await f.FillAsync(100, 1024);
        var (_, result) = await f.BackupAsync();
        var manifest = result.Manifest!;
        var path = Path.Combine(f.StoreRoot, manifest.Artifact.Name.Replace('/', Path.DirectorySeparatorChar));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2;
            var b = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(b ^ 0x01));
        }

        // Act
        var verification = await new BackupVerifier(f.Store, f.Keys).VerifyAsync(BackupFixture.ClusterName, manifest.BackupId);

        // Assert
        Assert.False(verification.Passed);
        Assert.False(verification.Checks.Single(c => c.Name == "artifact.sha256").Passed);
        Assert.False(verification.Checks.Single(c => c.Name == "decrypt").Passed);
        Assert.True(verification.Checks.Single(c => c.Name == "artifact.size").Passed);
    }

    [Fact]
    public async Task VerifyAsync_ManifestFigureWrong_ReportsThatCheck()
    {
        await using var f = await BackupFixture.StartAsync(members: 1);
        await f.FillAsync(20, 64);
        var (_, result) = await f.BackupAsync();
        var lying = result.Manifest! with { Snapshot = result.Manifest.Snapshot with { TotalKey = result.Manifest.Snapshot.TotalKey + 1 } };

        var verification = await new BackupVerifier(f.Store, f.Keys).VerifyAsync(lying);

        Assert.False(verification.Passed);
        // The edited figure fails its own check, and the manifest's MAC no longer matches its content.
        Assert.Equal(["manifest.mac", "snapshot.totalKey"], verification.Checks.Where(c => !c.Passed).Select(c => c.Name));
    }

    [Fact]
    public async Task VerifyAsync_ArtifactMissingOrUnknownBackup_ReportsOrThrows()
    {
        await using var f = await BackupFixture.StartAsync(members: 1);
        await f.FillAsync(5, 64);
        var (_, result) = await f.BackupAsync();
        var ghost = result.Manifest! with { Artifact = result.Manifest.Artifact with { Name = BackupNaming.ArtifactName(BackupFixture.ClusterName, "20200101T000000000Z-r000000000001") } };

        var missing = await new BackupVerifier(f.Store, f.Keys).VerifyAsync(ghost);

        Assert.False(missing.Passed);
        Assert.Equal("artifact.exists", missing.Checks.Single().Name);
        await Assert.ThrowsAsync<BackupObjectNotFoundException>(() =>
            new BackupVerifier(f.Store, f.Keys).VerifyAsync(BackupFixture.ClusterName, "20200101T000000000Z-r000000000001"));
    }
}
