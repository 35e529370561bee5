using EtcdServerless.Core.Restore;

namespace EtcdServerless.Core.Tests.Restore;

public sealed class EtcdVersionCheckTests
{
    [Theory]
    [InlineData("3.5.17", "3.4.23", true)]
    [InlineData("3.5.0", "v3.4.99", true)]
    [InlineData("4.0.0", "3.6.1", true)]
    [InlineData("3.4.23", "3.4.1", false)]
    [InlineData("3.4.23", "3.5.0", false)]
    [InlineData("3.6.0-rc.1", "3.6.2", false)]
    [InlineData("", "3.4.23", false)]
    [InlineData("3.5.1", null, false)]
    [InlineData("garbage", "3.4.23", false)]
    public void Refusal_OnlyAnOlderMajorMinor_IsRefused(string backup, string? target, bool refused)
    {
        var refusal = EtcdVersionCheck.Refusal("m1", backup, target);

        Assert.Equal(refused, refusal is not null);
        if (refusal is not null)
        {
            Assert.Contains(backup, refusal, StringComparison.Ordinal);
            Assert.Contains(target!, refusal, StringComparison.Ordinal);
            Assert.StartsWith("m1: ", refusal, StringComparison.Ordinal);
        }
    }
}
