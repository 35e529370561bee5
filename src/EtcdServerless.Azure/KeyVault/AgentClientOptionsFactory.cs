using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Azure.KeyVault;

/// <summary>
/// Builds the agent client's options from <c>Restore:AgentTls</c>: the certificates resolved from Key Vault
/// when those settings were secret URIs, the files otherwise.
/// </summary>
internal static class AgentClientOptionsFactory
{
    public static AgentClientOptions Create(AgentTlsOptions settings, ResolvedTlsMaterial? resolved)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var fromVault = resolved?.RestoreAgent;
        return new AgentClientOptions
        {
            CertFile = fromVault is null ? settings.CertFile : null,
            KeyFile = fromVault is null ? settings.KeyFile : null,
            CaFile = fromVault is null ? settings.CaFile : null,
            ClientCertificate = fromVault?.ClientCertificate,
            TrustedCa = fromVault?.TrustedCa,
            ServerThumbprints = [.. settings.ServerThumbprints ?? []],
            TimeoutSeconds = settings.TimeoutSeconds,
        };
    }
}
