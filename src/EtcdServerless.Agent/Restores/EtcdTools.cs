using System.Text.RegularExpressions;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Core.Members;

namespace EtcdServerless.Agent.Restores;

/// <summary>What the local etcd tooling can do, probed once and cached: versions, restore tool, flag support.</summary>
internal sealed partial class EtcdTools(AgentOptions options) : IDisposable
{
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ToolInfo? _info;

    /// <summary>Facts about the installed tools.</summary>
    internal sealed record ToolInfo(string? Etcd, string? Etcdctl, string? Etcdutl, string? EtcdVersion, bool SupportsBumpRevision)
    {
        /// <summary>The restore tool: etcdutl when present (3.5+), else etcdctl (3.4).</summary>
        public string? RestoreTool => Etcdutl ?? Etcdctl;
    }

    public async Task<ToolInfo> GetAsync(CancellationToken cancellationToken = default)
    {
        if (_info is { } cached)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_info is { } again)
            {
                return again;
            }

            var etcd = ExternalCommand.Locate(options.EtcdPath);
            var etcdctl = ExternalCommand.Locate(options.EtcdctlPath);
            var etcdutl = ExternalCommand.Locate(options.EtcdutlPath);
            string? version = null;
            if (etcd is not null)
            {
                var result = await ExternalCommand.RunAsync(etcd, ["--version"], _timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
                var match = VersionPattern().Match(result.StandardOutput + result.StandardError);
                version = match.Success ? match.Groups[1].Value : null;
            }

            var bump = false;
            var tool = etcdutl ?? etcdctl;
            if (tool is not null)
            {
                // Flag support is a property of the binary, not of its version string (backports exist): ask its help.
                var help = await ExternalCommand.RunAsync(tool, ["snapshot", "restore", "--help"], _timeout, Environment(), cancellationToken).ConfigureAwait(false);
                bump = (help.StandardOutput + help.StandardError).Contains("--bump-revision", StringComparison.Ordinal);
            }

            _info = new ToolInfo(etcd, etcdctl, etcdutl, version, bump);
            return _info;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Environment for etcdctl 3.4, which still defaults to the v2 API without it.</summary>
    public static IReadOnlyDictionary<string, string> Environment() => new Dictionary<string, string> { ["ETCDCTL_API"] = "3" };

    public void Dispose() => _gate.Dispose();

    [GeneratedRegex(@"etcd Version:\s*(\S+)")]
    private static partial Regex VersionPattern();
}
