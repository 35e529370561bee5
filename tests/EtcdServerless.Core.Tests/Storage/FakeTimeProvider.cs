namespace EtcdServerless.Core.Tests.Storage;

/// <summary>A settable clock for retention tests (Microsoft.Extensions.TimeProvider.Testing is not on the feed).</summary>
internal sealed class FakeTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
