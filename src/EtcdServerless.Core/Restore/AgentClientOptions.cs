using System.Security.Cryptography.X509Certificates;

namespace EtcdServerless.Core.Restore;

/// <summary>
/// How the orchestrator authenticates to member agents and checks them (config section <c>Restore:AgentTls</c>):
/// its client certificate, and the agents' server certificates by CA or pinned thumbprint.
/// </summary>
internal sealed class AgentClientOptions
{
    /// <summary>The orchestrator's client certificate (PEM); the agents pin it or its CA.</summary>
    public string? CertFile { get; set; }

    /// <summary>Key of <see cref="CertFile"/> (PEM).</summary>
    public string? KeyFile { get; set; }

    /// <summary>CA bundle that issued the agents' server certificates.</summary>
    public string? CaFile { get; set; }

    /// <summary>
    /// The client certificate with its key, already in memory (on Azure, read from Key Vault at start: a Function
    /// App has no files to point at). Takes the place of <see cref="CertFile"/> and <see cref="KeyFile"/>.
    /// </summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>The agents' CA bundle, already in memory; takes the place of <see cref="CaFile"/>.</summary>
    public X509Certificate2Collection? TrustedCa { get; set; }

    /// <summary>Pinned agent server certificates by SHA-256 (or SHA-1) thumbprint, as an alternative to <see cref="CaFile"/>.</summary>
    public List<string> ServerThumbprints { get; set; } = [];

    /// <summary>Timeout of one agent call other than the snapshot upload, in seconds.</summary>
    public int TimeoutSeconds { get; set; } = 300;
}
