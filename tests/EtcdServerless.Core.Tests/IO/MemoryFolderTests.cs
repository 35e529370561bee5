using EtcdServerless.Core.IO;

namespace EtcdServerless.Core.Tests.IO;

public sealed class MemoryFolderTests : IDisposable
{
    private const long Size = 3L << 30;
    private const long Headroom = MemoryFolder.HeadroomBytes;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "memfolder-" + Guid.NewGuid().ToString("N"));

    public MemoryFolderTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(Size + Headroom - 1, false)]
    [InlineData(Size + Headroom, true)]
    [InlineData(Size + Headroom + 1, true)]
    public void Fits_AvailableMemoryAroundSizePlusHeadroom_TrueFromExactOn(long available, bool fits)
    {
        Assert.Equal(fits, MemoryFolder.Fits(Size, available, folderFree: long.MaxValue));
    }

    [Theory]
    [InlineData(Size + Headroom - 1, false)]
    [InlineData(Size + Headroom, true)]
    [InlineData(Size + Headroom + 1, true)]
    public void Fits_FolderFreeSpaceAroundSizePlusHeadroom_TrueFromExactOn(long free, bool fits)
    {
        Assert.Equal(fits, MemoryFolder.Fits(Size, memoryAvailable: long.MaxValue, free));
    }

    [Theory]
    [InlineData(null, 1L << 40)]
    [InlineData(1L << 40, null)]
    public void Fits_FigureUnknown_False(long? available, long? free)
    {
        Assert.False(MemoryFolder.Fits(1, available, free));
    }

    [Theory]
    [InlineData("MemTotal:       24000000 kB\nMemFree:         1000 kB\nMemAvailable:    2048 kB\n", 2048L * 1024)]
    [InlineData("MemTotal:       24000000 kB\n", null)]
    [InlineData("MemAvailable:    lots kB\n", null)]
    [InlineData("MemAvailable:    2048 MB\n", null)]
    public void MemoryAvailable_Meminfo_ParsesKilobytesOrNull(string meminfo, long? expected)
    {
        Assert.Equal(expected, MemoryFolder.MemoryAvailable(Write("meminfo", meminfo), NoFile(), _root));
    }

    [Fact]
    public void MemoryAvailable_NoFile_Null()
    {
        Assert.Null(MemoryFolder.MemoryAvailable(NoFile(), NoFile(), _root));
    }

    [Fact]
    public void MemoryAvailable_CgroupV2LimitOnAnAncestor_RoomUnderTheLimit()
    {
        var meminfo = Write("meminfo", "MemAvailable:    20971520 kB\n");
        var cgroup = Write("cgroup", "0::/system.slice/agent.service\n");
        Write("system.slice/memory.max", "4294967296\n");
        Write("system.slice/memory.current", "1073741824\n");
        Write("system.slice/agent.service/memory.max", "max\n");
        Write("system.slice/agent.service/memory.current", "536870912\n");

        Assert.Equal(3L << 30, MemoryFolder.MemoryAvailable(meminfo, cgroup, _root));
    }

    [Fact]
    public void MemoryAvailable_CgroupV1Limit_RoomUnderTheLimit()
    {
        var meminfo = Write("meminfo", "MemAvailable:    20971520 kB\n");
        var cgroup = Write("cgroup", "5:devices:/\n4:memory:/pod/agent\n0::/\n");
        Write("memory/pod/agent/memory.limit_in_bytes", "2147483648\n");
        Write("memory/pod/agent/memory.usage_in_bytes", "1073741824\n");
        Write("memory/memory.limit_in_bytes", "9223372036854771712\n");
        Write("memory/memory.usage_in_bytes", "5000000000\n");

        Assert.Equal(1L << 30, MemoryFolder.MemoryAvailable(meminfo, cgroup, _root));
    }

    [Fact]
    public void MemoryAvailable_CgroupUnlimited_HostFigure()
    {
        var meminfo = Write("meminfo", "MemAvailable:    2048 kB\n");
        var cgroup = Write("cgroup", "0::/a\n");
        Write("memory.max", "max\n");
        Write("a/memory.max", "max\n");
        Write("a/memory.current", "1\n");

        Assert.Equal(2048L * 1024, MemoryFolder.MemoryAvailable(meminfo, cgroup, _root));
    }

    [Fact]
    public void MemoryAvailable_HostBelowCgroupRoom_HostFigure()
    {
        var meminfo = Write("meminfo", "MemAvailable:    1024 kB\n");
        var cgroup = Write("cgroup", "0::/a\n");
        Write("a/memory.max", "4294967296\n");
        Write("a/memory.current", "0\n");

        Assert.Equal(1024L * 1024, MemoryFolder.MemoryAvailable(meminfo, cgroup, _root));
    }

    private string Write(string relative, string content)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    private string NoFile() => Path.Combine(_root, "missing-" + Guid.NewGuid().ToString("N"));
}
