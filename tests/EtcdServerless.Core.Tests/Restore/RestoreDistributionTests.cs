using EtcdServerless.Core.Restore;

namespace EtcdServerless.Core.Tests.Restore;

public sealed class RestoreDistributionTests
{
    [Theory]
    [InlineData("h1,h1,h1", "m1|m2|m3")]
    [InlineData("h1,h2,h3", "m1,m2,m3")]
    [InlineData(",,", "m1,m2,m3")]
    [InlineData("h1,h1,h2", "m1,m3|m2")]
    [InlineData("h1,h2,h1", "m1,m2|m3")]
    [InlineData("h1,,h1", "m1,m2|m3")]
    [InlineData("h1", "m1")]
    public void Waves_ByHost_EachHostsMembersGoInTurnAndHostsGoTogether(string hosts, string expected)
    {
        var members = hosts.Split(',').Select((h, i) => ($"m{i + 1}", h.Length == 0 ? null : h));

        var waves = RestoreDistribution.Waves(members);

        Assert.Equal(expected, string.Join("|", waves.Select(w => string.Join(",", w))));
    }

    [Fact]
    public void Waves_NoMembers_NoWave()
    {
        Assert.Empty(RestoreDistribution.Waves([]));
    }

    [Fact]
    public void Describe_OneWave_SaysAtOnce()
    {
        var line = RestoreDistribution.Describe([["m1", "m2", "m3"]]);

        Assert.Equal("ok: the snapshot reaches m1, m2, m3 at once (one decrypted stream to every agent)", line);
    }

    [Fact]
    public void Describe_SeveralWaves_NamesThemInOrder()
    {
        var line = RestoreDistribution.Describe([["m1", "m3"], ["m2"]]);

        Assert.Contains("in 2 waves (m1, m3 | m2)", line, StringComparison.Ordinal);
        Assert.StartsWith("ok: members share a host", line, StringComparison.Ordinal);
    }
}
