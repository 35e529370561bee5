namespace EtcdServerless.Core.Drills;

/// <summary>The wire contract of the agent's drill endpoint (<c>POST /v1/drills</c>, JSON as <see cref="Restore.AgentProtocol.Json"/>).</summary>
internal static class AgentDrillProtocol
{
    /// <summary>The endpoint's path; the <see cref="DrillExpectation"/> goes in its query, the plaintext snapshot in its body.</summary>
    public const string Path = "v1/drills";
}

/// <summary>What the agent answers: the checks it ran on the plaintext it received (failures are checks, status 200).</summary>
internal sealed record AgentDrillResponse
{
    /// <summary>The agent's checks, from <c>receive</c> to <c>stop</c>.</summary>
    public required IReadOnlyList<DrillCheck> Checks { get; init; }

    /// <summary>The etcd binary that served the restored member.</summary>
    public string EtcdVersion { get; init; } = "";

    /// <summary>The agent's member (the drill ran on its host, never in its data dir).</summary>
    public string MemberName { get; init; } = "";
}
