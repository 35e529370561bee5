namespace EtcdServerless.Core.Configuration;

/// <summary>One configuration problem, named by its full key (e.g. <c>Clusters:prod-east:Schedule</c>).</summary>
/// <param name="Key">The configuration key, ':'-separated, as the user would write it in an app setting (with '__').</param>
/// <param name="Message">What is wrong and, where useful, how to fix it.</param>
public sealed record ConfigurationError(string Key, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Key}: {Message}";
}
