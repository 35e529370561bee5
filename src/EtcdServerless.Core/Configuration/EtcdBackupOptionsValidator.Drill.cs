namespace EtcdServerless.Core.Configuration;

/// <summary>The checks of <c>Clusters:C:Drill</c> and of the agent URLs plaintext is streamed to.</summary>
public sealed partial class EtcdBackupOptionsValidator
{
    private static void ValidateDrill(string cluster, ClusterDrillOptions? drill, AgentTlsOptions? agentTls, List<ConfigurationError> errors)
    {
        if (drill is null)
        {
            return;
        }

        var prefix = $"Clusters:{cluster}:Drill";
        if (!string.IsNullOrWhiteSpace(drill.Schedule) && TryParseSchedule(drill.Schedule, out var scheduleError) is null)
        {
            errors.Add(new($"{prefix}:Schedule", scheduleError!));
        }

        ValidateAgentUrl($"{prefix}:AgentUrl", drill.AgentUrl, agentTls, errors);
    }

    /// <summary>An agent other hosts stream plaintext to (drills, materialization): https only, and the client certificate set.</summary>
    private static void ValidateAgentUrl(string key, string? agentUrl, AgentTlsOptions? agentTls, List<ConfigurationError> errors)
    {
        if (string.IsNullOrWhiteSpace(agentUrl))
        {
            return;
        }

        if (!Uri.TryCreate(agentUrl, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps || string.IsNullOrEmpty(url.Host))
        {
            // The plaintext snapshot travels to the agent: never over plain http.
            errors.Add(new(key, $"'{agentUrl}' is not an https:// URL (agents are called over mutual TLS only)"));
        }

        if (string.IsNullOrEmpty(agentTls?.CertFile) || string.IsNullOrEmpty(agentTls.KeyFile))
        {
            errors.Add(new(key, "needs Restore:AgentTls:CertFile and KeyFile (the client certificate the agent trusts, as for restores)"));
        }
    }
}
