using EtcdServerless.Core.Deltas;

namespace EtcdServerless.Core.Tests.Deltas;

public sealed class ReplayMemberPlacementTests
{
    private const long Estimate = 3L << 30;
    private const long Headroom = ReplayMemberPlacement.HeadroomBytes;

    [Theory]
    [InlineData(Estimate + Headroom - 1, false)]
    [InlineData(Estimate + Headroom, true)]
    [InlineData(Estimate + Headroom + 1, true)]
    public void Choose_AvailableMemoryAroundEstimatePlusHeadroom_MemoryOnlyFromExactOn(long available, bool inMemory)
    {
        var chosen = ReplayMemberPlacement.Choose(new MaterializeOptions(), Estimate, available, memoryFree: long.MaxValue);

        Assert.Equal(inMemory ? ReplayMemberPlacement.DefaultMemoryDirectory : null, chosen);
    }

    [Theory]
    [InlineData(Estimate + Headroom - 1, false)]
    [InlineData(Estimate + Headroom, true)]
    [InlineData(Estimate + Headroom + 1, true)]
    public void Choose_TmpfsFreeSpaceAroundEstimatePlusHeadroom_MemoryOnlyFromExactOn(long free, bool inMemory)
    {
        var chosen = ReplayMemberPlacement.Choose(new MaterializeOptions { MemoryDirectory = "/mnt/ram" }, Estimate, memoryAvailable: long.MaxValue, free);

        Assert.Equal(inMemory ? "/mnt/ram" : null, chosen);
    }

    [Fact]
    public void Choose_TurnedOff_Disk()
    {
        Assert.Null(ReplayMemberPlacement.Choose(new MaterializeOptions { MemberInMemory = false }, 1, long.MaxValue, long.MaxValue));
    }

    [Theory]
    [InlineData(null, 1L << 40)]
    [InlineData(1L << 40, null)]
    public void Choose_FigureUnknown_Disk(long? available, long? free)
    {
        Assert.Null(ReplayMemberPlacement.Choose(new MaterializeOptions(), 1, available, free));
    }

    [Fact]
    public void EstimateBytes_BaseAndReplay_DoubledPlusLogRoom()
    {
        Assert.Equal((2L * 100) + (2L * 10) + (256L << 20), ReplayMemberPlacement.EstimateBytes(100, 10));
    }
}
