using Microsoft.Extensions.Configuration;

namespace EtcdServerless.Core.Configuration;

/// <summary>Binds, completes and validates <see cref="EtcdBackupOptions"/> from any configuration source.</summary>
/// <remarks>
/// The CLI builds the configuration from one JSON file plus environment variables; the Function App passes its
/// app settings. Both end here, so both hosts read the same keys and fail the same way.
/// </remarks>
public static class EtcdBackupConfiguration
{
    /// <summary>
    /// Binds <paramref name="configuration"/>, resolves relative file paths against <paramref name="baseDirectory"/>
    /// (the config file's folder), fills the embedded store/key defaults and validates.
    /// </summary>
    /// <exception cref="InvalidOperationException">The configuration is not usable; the message lists every error by key.</exception>
    public static EtcdBackupOptions Load(IConfiguration configuration, string? baseDirectory = null, string? source = null)
    {
        var options = Bind(configuration, source, reportUnknownRootKeys: false, warnings: null);
        Complete(options, baseDirectory);
        ThrowIfInvalid(options, source);
        return options;
    }

    /// <summary>
    /// Checks every key against the options' shape, then binds. A value that does not convert is an error naming
    /// its key (the binder would silently drop the whole cluster holding it); an unknown key goes to
    /// <paramref name="warnings"/>, or is an error with <c>StrictConfiguration</c>. Root keys that are no section
    /// of ours count only with <paramref name="reportUnknownRootKeys"/> (a dedicated file; app settings hold
    /// unrelated keys).
    /// </summary>
    /// <exception cref="InvalidOperationException">A value does not bind; the message lists every error by key.</exception>
    internal static EtcdBackupOptions Bind(IConfiguration configuration, string? source, bool reportUnknownRootKeys, ICollection<string>? warnings)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var where = source is null ? "" : $" ({source})";
        var check = ConfigurationKeyChecker.Check(configuration, reportUnknownRootKeys);
        var strict = bool.TryParse(configuration[nameof(EtcdBackupOptions.StrictConfiguration)], out var s) && s;
        var unknown = check.UnknownKeys.Select(k => $"{k}: unknown key (a typo? see docs/configuration.md)").ToList();
        var errors = strict ? [.. check.Errors, .. unknown] : check.Errors;
        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"invalid configuration{where}: {string.Join("; ", errors)}");
        }

        if (!strict && warnings is not null)
        {
            foreach (var line in unknown)
            {
                warnings.Add($"configuration{where}: {line}; ignored");
            }
        }

        var options = new EtcdBackupOptions();
        try
        {
            configuration.Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key it could not convert (e.g. "Store:ImmutabilityDays").
            throw new InvalidOperationException($"invalid configuration{where}: {ex.Message}", ex);
        }

        return options;
    }

    /// <summary>Resolves relative TLS/password paths and fills in the embedded defaults for empty store/key URIs.</summary>
    public static void Complete(EtcdBackupOptions options, string? baseDirectory = null, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Store ??= new();
        options.Keys ??= new();
        options.Api ??= new();
        options.Restore ??= new();
        options.Restore.AgentTls ??= new();
        options.Restore.AgentTls.CaFile = Resolve(options.Restore.AgentTls.CaFile, baseDirectory ?? Environment.CurrentDirectory);
        options.Restore.AgentTls.CertFile = Resolve(options.Restore.AgentTls.CertFile, baseDirectory ?? Environment.CurrentDirectory);
        options.Restore.AgentTls.KeyFile = Resolve(options.Restore.AgentTls.KeyFile, baseDirectory ?? Environment.CurrentDirectory);
        options.Clusters ??= new(StringComparer.Ordinal);
        baseDirectory ??= Environment.CurrentDirectory;
        if (string.IsNullOrWhiteSpace(options.Store.Uri))
        {
            options.Store.Uri = new Uri(DefaultLocations.StoreDirectory(environment)).AbsoluteUri;
        }

        if (string.IsNullOrWhiteSpace(options.Keys.Uri))
        {
            options.Keys.Uri = new Uri(DefaultLocations.KeysDirectory(environment)).AbsoluteUri;
        }

        foreach (var cluster in options.Clusters.Values)
        {
            if (cluster is null)
            {
                continue;
            }

            cluster.Tls ??= new();
            cluster.Auth ??= new();
            cluster.Retention ??= new();
            cluster.Members ??= [];
            cluster.Endpoints ??= [];
            cluster.Tls.CaFile = Resolve(cluster.Tls.CaFile, baseDirectory);
            cluster.Tls.CertFile = Resolve(cluster.Tls.CertFile, baseDirectory);
            cluster.Tls.KeyFile = Resolve(cluster.Tls.KeyFile, baseDirectory);
            cluster.Auth.PasswordFile = Resolve(cluster.Auth.PasswordFile, baseDirectory);
        }
    }

    /// <summary>Throws one exception listing every error (each naming its key) when the options are not usable.</summary>
    /// <exception cref="InvalidOperationException">At least one error was found.</exception>
    public static void ThrowIfInvalid(EtcdBackupOptions options, string? source = null)
    {
        var errors = EtcdBackupOptionsValidator.Validate(options);
        if (errors.Count > 0)
        {
            var where = source is null ? "" : $" ({source})";
            throw new InvalidOperationException($"invalid configuration{where}: {string.Join("; ", errors)}");
        }
    }

    /// <summary>Returns the named cluster or throws <see cref="KeyNotFoundException"/> naming the known ones.</summary>
    public static ClusterOptions GetCluster(this EtcdBackupOptions options, string cluster)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Clusters.TryGetValue(cluster, out var settings))
        {
            return settings;
        }

        var known = options.Clusters.Count == 0 ? "none configured" : string.Join(", ", options.Clusters.Keys.Order(StringComparer.Ordinal));
        throw new KeyNotFoundException($"unknown cluster '{cluster}' (known: {known})");
    }

    // An https value is a Key Vault secret URI (resolved by the Azure host), not a path.
    private static string? Resolve(string? path, string baseDirectory) =>
        string.IsNullOrWhiteSpace(path) || IsSecretUri(path) ? path : Path.GetFullPath(path, baseDirectory);

    /// <summary>True for a TLS setting that names a Key Vault secret (https://vault/secrets/name) rather than a file.</summary>
    internal static bool IsSecretUri(string? value) => value is not null && value.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
}
