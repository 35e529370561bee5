using System.Runtime.Versioning;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Cli.Tests.Abuse;

/// <summary>
/// Defends: scratch and staging files that hold plaintext or partial data are private (0600 in a 0700 folder we
/// own), never reachable through a planted link, and leftovers of dead processes are removed while live writers'
/// files are kept.
/// </summary>
[Trait("Category", "Abuse")]
[UnsupportedOSPlatform("windows")]
public sealed class PermissionModeTests : IDisposable
{
    private const UnixFileMode Mode700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private readonly TempDirectory _dir = new("etcdsl-perm");

    [Fact]
    public void Create_FolderPrecreatedWorldWritable_IsTightenedTo0700AndFileIsUnlinked()
    {
        var folder = _dir.Combine(PrivateTempFiles.FolderName);
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, Mode700 | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);

        using var scratch = PrivateTempFiles.Create(_dir.Path, "t");
        scratch.Write(new byte[100]);

        Assert.Equal(Mode700, File.GetUnixFileMode(folder));
        Assert.Empty(Directory.GetFiles(folder));
        Assert.Equal(100, scratch.Length);
    }

    [Fact]
    public void Create_FolderIsSymlink_Refuses()
    {
        var elsewhere = _dir.Combine("elsewhere");
        Directory.CreateDirectory(elsewhere);
        Directory.CreateSymbolicLink(_dir.Combine(PrivateTempFiles.FolderName), elsewhere);

        Assert.Throws<UnauthorizedAccessException>(() => PrivateTempFiles.Create(_dir.Path, "t"));
        Assert.Empty(Directory.GetFiles(elsewhere));
    }

    [Fact]
    public void SweepLeftovers_DeadFileRemoved_LiveFileKept()
    {
        var folder = PrivateTempFiles.EnsureFolder(_dir.Path);
        var dead = Path.Combine(folder, "dead.tmp");
        File.WriteAllBytes(dead, new byte[10]);
        var live = Path.Combine(folder, "live.tmp");
        using var holder = new FileStream(live, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);

        var removed = PrivateTempFiles.SweepLeftovers(folder);

        Assert.Equal(1, removed);
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
    }

    [Fact]
    public async Task LocalStore_StagedWrite_Is0600In0700AndCleanupKeepsLiveWriter()
    {
        var store = new LocalDirectoryBackupStore(_dir.Combine("store"));
        var staging = _dir.Combine("store", LocalDirectoryBackupStore.StagingDirectoryName);
        var crashed = Path.Combine(staging, "crashed.part");
        await File.WriteAllBytesAsync(crashed, new byte[10]);
        var writer = await store.OpenWriteAsync("c1/live", new BackupObjectWriteOptions());
        await using (writer)
        {
            await writer.Content.WriteAsync(new byte[10]);
            var part = Assert.Single(Directory.GetFiles(staging), f => f != crashed);

            var removed = await store.CleanupStagingAsync(TimeSpan.Zero);

            Assert.Equal(Mode700, File.GetUnixFileMode(staging));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(part));
            Assert.Equal(1, removed);
            Assert.False(File.Exists(crashed));
            Assert.True(File.Exists(part));
            await writer.CommitAsync();
        }

        Assert.Empty(Directory.GetFiles(staging));
    }

    public void Dispose() => _dir.Dispose();
}
