using System.Collections;
using EtcdServerless.Core.Configuration;
using Microsoft.Extensions.Configuration;

namespace EtcdServerless.Cli.Composition;

/// <summary>
/// Reads the CLI's configuration: one JSON file, then environment variables with <c>__</c> as the separator and
/// no prefix (<c>Store__Uri</c>, <c>Clusters__prod-east__Schedule</c>), so the same keys work as Function App
/// settings. Environment variables win over the file.
/// </summary>
internal static class ConfigurationLoader
{
    /// <summary>Environment variable naming the config file when <c>--config</c> is not given.</summary>
    public const string ConfigFileVariable = "ETCD_BACKUP_CONFIG";

    /// <summary>The file name looked for in the default config folder.</summary>
    public const string DefaultFileName = "config.json";

    /// <summary>Loads, completes and validates the configuration.</summary>
    /// <param name="configFile">The <c>--config</c> file, or null for the default lookup.</param>
    /// <param name="environment">The environment variables (tests pass their own); null = the process's.</param>
    /// <exception cref="FileNotFoundException">An explicitly named config file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The configuration is invalid (every error names its key).</exception>
    public static LoadedConfiguration Load(string? configFile, IDictionary? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariables();
        var path = ResolvePath(configFile, environment);
        var builder = new ConfigurationBuilder();
        if (path is not null)
        {
            builder.AddJsonFile(path, optional: false, reloadOnChange: false);
        }

        builder.AddInMemoryCollection(FromEnvironment(environment));
        IConfigurationRoot configuration;
        try
        {
            configuration = builder.Build();
        }
        catch (FormatException ex)
        {
            // A JSON syntax error: keep the parser's line/position, which is what the user needs.
            throw new InvalidDataException($"configuration file '{path}' is not valid JSON: {ex.InnerException?.Message ?? ex.Message}", ex);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"configuration file '{path}' is not valid JSON: {ex.Message}", ex);
        }

        var baseDirectory = path is null ? Environment.CurrentDirectory : Path.GetDirectoryName(path)!;
        string? Lookup(string name) => environment[name] as string;
        var warnings = new List<string>();
        var options = EtcdBackupConfiguration.Bind(configuration, path ?? "environment", reportUnknownRootKeys: path is not null, warnings);
        EtcdBackupConfiguration.Complete(options, baseDirectory, Lookup);
        EtcdBackupConfiguration.ThrowIfInvalid(options, path ?? "environment");
        ThrowIfTlsSecretUris(options, path ?? "environment");
        return new LoadedConfiguration(options, path) { Warnings = warnings };
    }

    /// <summary>
    /// Key Vault secret URIs in TLS settings are for the Function App, which resolves them once at start. The CLI
    /// runs where the PEM files are (it also hands file paths to etcdctl-style flags and to the agents' operators),
    /// so a secret URI here is a configuration error naming the key, not a late "file not found".
    /// </summary>
    internal static void ThrowIfTlsSecretUris(EtcdBackupOptions options, string source)
    {
        var keys = new List<string>();
        void Check(string key, string? value)
        {
            if (EtcdServerless.Azure.KeyVault.KeyVaultSecretReference.IsSecretUri(value))
            {
                keys.Add(key);
            }
        }

        foreach (var (name, cluster) in options.Clusters)
        {
            Check($"Clusters:{name}:Tls:CaFile", cluster.Tls?.CaFile);
            Check($"Clusters:{name}:Tls:CertFile", cluster.Tls?.CertFile);
            Check($"Clusters:{name}:Tls:KeyFile", cluster.Tls?.KeyFile);
        }

        Check("Restore:AgentTls:CaFile", options.Restore?.AgentTls?.CaFile);
        Check("Restore:AgentTls:CertFile", options.Restore?.AgentTls?.CertFile);
        Check("Restore:AgentTls:KeyFile", options.Restore?.AgentTls?.KeyFile);
        if (keys.Count > 0)
        {
            throw new InvalidOperationException(
                $"invalid configuration ({source}): {string.Join(", ", keys)}: a Key Vault secret URI is read by the Function App only; the CLI needs a PEM file path");
        }
    }

    /// <summary>
    /// The config file: <paramref name="configFile"/>, else <c>$ETCD_BACKUP_CONFIG</c>, else the default file
    /// (<c>/etc/etcd-backup/config.json</c> as root, <c>$XDG_CONFIG_HOME/etcd-backup/config.json</c> otherwise)
    /// when it exists; null when there is none (environment and embedded defaults only).
    /// </summary>
    internal static string? ResolvePath(string? configFile, IDictionary environment)
    {
        if (!string.IsNullOrWhiteSpace(configFile))
        {
            var full = Path.GetFullPath(configFile);
            return File.Exists(full) ? full : throw new FileNotFoundException($"configuration file '{configFile}' does not exist", full);
        }

        if (environment[ConfigFileVariable] is string fromEnvironment && !string.IsNullOrWhiteSpace(fromEnvironment))
        {
            var full = Path.GetFullPath(fromEnvironment);
            return File.Exists(full) ? full : throw new FileNotFoundException($"configuration file '{fromEnvironment}' (from {ConfigFileVariable}) does not exist", full);
        }

        var keysParent = Path.GetDirectoryName(DefaultLocations.KeysDirectory(name => environment[name] as string))!;
        var fallback = Path.Combine(keysParent, DefaultFileName);
        return File.Exists(fallback) ? fallback : null;
    }

    /// <summary>
    /// Maps <c>A__B__C=value</c> to <c>A:B:C</c>, as the standard environment provider does, but only for the
    /// sections this product reads, so unrelated variables (PATH, HOME...) never reach the binder.
    /// </summary>
    internal static IEnumerable<KeyValuePair<string, string?>> FromEnvironment(IDictionary environment)
    {
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is not string name || !name.Contains("__", StringComparison.Ordinal))
            {
                continue;
            }

            var key = name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
            var section = key[..key.IndexOf(':', StringComparison.Ordinal)];
            if (section.Equals(nameof(EtcdBackupOptions.Store), StringComparison.OrdinalIgnoreCase)
                || section.Equals(nameof(EtcdBackupOptions.Keys), StringComparison.OrdinalIgnoreCase)
                || section.Equals(nameof(EtcdBackupOptions.Clusters), StringComparison.OrdinalIgnoreCase)
                || section.Equals(nameof(EtcdBackupOptions.Api), StringComparison.OrdinalIgnoreCase)
                || section.Equals(nameof(EtcdBackupOptions.Restore), StringComparison.OrdinalIgnoreCase))
            {
                yield return new(key, entry.Value as string);
            }
        }
    }
}

/// <summary>The validated options and the file they came from (null when none).</summary>
internal sealed record LoadedConfiguration(EtcdBackupOptions Options, string? Path)
{
    /// <summary>Unknown keys that were ignored (errors with <c>StrictConfiguration</c>).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
