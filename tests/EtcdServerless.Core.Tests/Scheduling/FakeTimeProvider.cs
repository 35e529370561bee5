namespace EtcdServerless.Core.Tests.Scheduling;

/// <summary>A settable clock (Microsoft.Extensions.TimeProvider.Testing is not on the feed here).</summary>
internal sealed class FakeTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;

    public void SetUtcNow(DateTimeOffset value) => _now = value;
}
