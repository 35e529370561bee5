using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using NCrontab;

namespace EtcdServerless.Core.Configuration;

/// <summary>
/// Checks a bound <see cref="EtcdBackupOptions"/> at start. Every error names the full key, so a user can find
/// it in the JSON file or as an app setting (<c>Clusters__prod-east__Schedule</c>).
/// </summary>
public sealed partial class EtcdBackupOptionsValidator : IValidateOptions<EtcdBackupOptions>
{
    /// <summary>NCRONTAB with seconds: six space-separated fields, as Azure Functions timers use.</summary>
    public const int ScheduleFields = 6;

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, EtcdBackupOptions options)
    {
        var errors = Validate(options);
        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(errors.Select(e => e.ToString()));
    }

    /// <summary>Returns every problem found (empty when the configuration is usable).</summary>
    public static IReadOnlyList<ConfigurationError> Validate(EtcdBackupOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<ConfigurationError>();
        var store = ValidateStore(options.Store, errors);
        var keys = ValidateKeys(options.Keys, errors);
        if (store?.LocalPath is { } storeDir && keys?.LocalPath is { } keyDir && Overlaps(storeDir, keyDir))
        {
            errors.Add(new("Keys:Uri", $"the key directory '{keyDir}' overlaps the store directory '{storeDir}'; keys must never live beside the data"));
        }

        if (options.Clusters is { Count: > 0 })
        {
            foreach (var (cluster, settings) in options.Clusters)
            {
                ValidateCluster(cluster, settings, errors);
                ValidateDrill(cluster, settings?.Drill, options.Restore?.AgentTls, errors);
                ValidateAgentUrl($"Clusters:{cluster}:Deltas:MaterializeAgentUrl", settings?.Deltas?.MaterializeAgentUrl, options.Restore?.AgentTls, errors);
            }
        }

        ValidateApi(options.Api, errors);
        if (options.Restore?.AgentTls is { } agentTls)
        {
            CheckFile("Restore:AgentTls:CaFile", agentTls.CaFile, errors);
            CheckFile("Restore:AgentTls:CertFile", agentTls.CertFile, errors);
            CheckFile("Restore:AgentTls:KeyFile", agentTls.KeyFile, errors);
            if (string.IsNullOrEmpty(agentTls.CertFile) != string.IsNullOrEmpty(agentTls.KeyFile))
            {
                errors.Add(new(string.IsNullOrEmpty(agentTls.CertFile) ? "Restore:AgentTls:CertFile" : "Restore:AgentTls:KeyFile", "the agent client certificate needs both CertFile and KeyFile"));
            }

            if (agentTls.TimeoutSeconds < 1)
            {
                errors.Add(new("Restore:AgentTls:TimeoutSeconds", $"{agentTls.TimeoutSeconds} must be at least 1"));
            }
        }

        return errors;
    }

    /// <summary>Parses a six-field NCRONTAB expression; returns null and an error message when invalid.</summary>
    public static CrontabSchedule? TryParseSchedule(string expression, out string? error)
    {
        error = null;
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields != ScheduleFields)
        {
            error = $"'{expression}' is not a valid NCRONTAB expression ({ScheduleFields} fields: second minute hour day month day-of-week; found {fields})";
            return null;
        }

        string? parseError = null;
        var schedule = CrontabSchedule.TryParse<CrontabSchedule?>(
            expression,
            new CrontabSchedule.ParseOptions { IncludingSeconds = true },
            s => s,
            e =>
            {
                parseError = e().Message;
                return null;
            });
        if (schedule is null)
        {
            error = $"'{expression}' is not a valid NCRONTAB expression ({ScheduleFields} fields): {parseError}";
        }

        return schedule;
    }


    private static StoreLocation? ValidateStore(StoreOptions store, List<ConfigurationError> errors)
    {
        StoreLocation? location = null;
        if (!string.IsNullOrWhiteSpace(store.Uri))
        {
            location = StoreLocation.TryParseStore(store.Uri, out var error);
            if (location is null)
            {
                errors.Add(new("Store:Uri", error!));
            }
        }

        if (store.ImmutabilityDays < 0)
        {
            errors.Add(new("Store:ImmutabilityDays", $"{store.ImmutabilityDays} must be 0 or more"));
        }

        if (!string.IsNullOrEmpty(store.AccountKey))
        {
            Span<byte> buffer = stackalloc byte[128];
            if (!Convert.TryFromBase64String(store.AccountKey, buffer, out _))
            {
                errors.Add(new("Store:AccountKey", "is not a base64 storage account key"));
            }

            if (!string.IsNullOrEmpty(store.SasToken))
            {
                errors.Add(new("Store:SasToken", "set either Store:AccountKey or Store:SasToken, not both"));
            }
        }

        if ((!string.IsNullOrEmpty(store.AccountKey) || !string.IsNullOrEmpty(store.SasToken)) && location?.Kind == LocationKind.LocalDirectory)
        {
            errors.Add(new(string.IsNullOrEmpty(store.AccountKey) ? "Store:SasToken" : "Store:AccountKey", "only applies to a Blob store, but Store:Uri is a local directory"));
        }

        return location;
    }

    private static StoreLocation? ValidateKeys(KeysOptions keys, List<ConfigurationError> errors)
    {
        if (string.IsNullOrWhiteSpace(keys.Uri))
        {
            return null;
        }

        var location = StoreLocation.TryParseKeys(keys.Uri, out var error);
        if (location is null)
        {
            errors.Add(new("Keys:Uri", error!));
        }

        return location;
    }

    private static void ValidateCluster(string cluster, ClusterOptions? settings, List<ConfigurationError> errors)
    {
        var prefix = $"Clusters:{cluster}";
        // The same rule the store's object names use (BackupNaming), so a name that validates also works at run time.
        if (!Catalog.BackupNaming.IsValidCluster(cluster))
        {
            var suggestion = cluster.ToLowerInvariant();
            errors.Add(new(prefix, $"'{cluster}' is not a valid cluster name ({Catalog.BackupNaming.ClusterRule}){(Catalog.BackupNaming.IsValidCluster(suggestion) ? $"; use '{suggestion}'" : "")}"));
        }

        if (settings is null)
        {
            errors.Add(new(prefix, "has no settings"));
            return;
        }

        if (settings.Endpoints is not { Count: > 0 })
        {
            errors.Add(new($"{prefix}:Endpoints", "at least one etcd client URL is required"));
        }
        else
        {
            for (var i = 0; i < settings.Endpoints.Count; i++)
            {
                CheckUrl($"{prefix}:Endpoints:{i}", settings.Endpoints[i], errors);
            }
        }

        ValidateTls($"{prefix}:Tls", settings.Tls ?? new(), errors);
        ValidateAuth($"{prefix}:Auth", settings.Auth ?? new(), errors);
        if (!string.IsNullOrWhiteSpace(settings.Schedule) && TryParseSchedule(settings.Schedule, out var scheduleError) is null)
        {
            errors.Add(new($"{prefix}:Schedule", scheduleError!));
        }

        if (settings.MaxAge is { } maxAge && maxAge <= TimeSpan.Zero)
        {
            errors.Add(new($"{prefix}:MaxAge", $"must be a positive duration such as 01:00:00 (got {maxAge})"));
        }

        if (settings.Deltas?.Interval is { } interval && interval < TimeSpan.FromSeconds(10))
        {
            errors.Add(new($"{prefix}:Deltas:Interval", $"must be at least 00:00:10 (got {interval})"));
        }

        ValidateRetention($"{prefix}:Retention", settings.Retention ?? new(), errors);
        ValidateMembers($"{prefix}:Members", settings.Members ?? [], errors);
    }

    private static void ValidateTls(string prefix, TlsOptions tls, List<ConfigurationError> errors)
    {
        CheckFile($"{prefix}:CaFile", tls.CaFile, errors);
        CheckFile($"{prefix}:CertFile", tls.CertFile, errors);
        CheckFile($"{prefix}:KeyFile", tls.KeyFile, errors);
        if (string.IsNullOrEmpty(tls.CertFile) != string.IsNullOrEmpty(tls.KeyFile))
        {
            errors.Add(new(string.IsNullOrEmpty(tls.CertFile) ? $"{prefix}:CertFile" : $"{prefix}:KeyFile", "client TLS needs both CertFile and KeyFile"));
        }
    }

    private static void ValidateAuth(string prefix, EtcdAuthOptions auth, List<ConfigurationError> errors)
    {
        var hasPassword = !string.IsNullOrEmpty(auth.Password) || !string.IsNullOrEmpty(auth.PasswordFile);
        if (!string.IsNullOrEmpty(auth.Username) && !hasPassword)
        {
            errors.Add(new($"{prefix}:Password", "a user name needs Password or PasswordFile"));
        }

        if (string.IsNullOrEmpty(auth.Username) && hasPassword)
        {
            errors.Add(new($"{prefix}:Username", "a password is set but no user name"));
        }

        if (!string.IsNullOrEmpty(auth.Password) && !string.IsNullOrEmpty(auth.PasswordFile))
        {
            errors.Add(new($"{prefix}:PasswordFile", "set either Password or PasswordFile, not both"));
        }

        CheckFile($"{prefix}:PasswordFile", auth.PasswordFile, errors);
    }

    private static void ValidateRetention(string prefix, RetentionOptions retention, List<ConfigurationError> errors)
    {
        if (retention.KeepLast < 1)
        {
            errors.Add(new($"{prefix}:KeepLast", $"{retention.KeepLast} must be at least 1 (the newest verified backup is always kept)"));
        }

        foreach (var (key, value) in new[] { ("Hourly", retention.Hourly), ("Daily", retention.Daily), ("Weekly", retention.Weekly), ("Monthly", retention.Monthly) })
        {
            if (value < 0)
            {
                errors.Add(new($"{prefix}:{key}", $"{value} must be 0 or more"));
            }
        }
    }

    private static void ValidateMembers(string prefix, List<MemberOptions> members, List<ConfigurationError> errors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < members.Count; i++)
        {
            var member = members[i];
            var key = $"{prefix}:{i}";
            if (member is null)
            {
                errors.Add(new(key, "is empty"));
                continue;
            }

            if (string.IsNullOrWhiteSpace(member.Name))
            {
                errors.Add(new($"{key}:Name", "is required (the etcd --name of the member)"));
            }
            else if (!names.Add(member.Name))
            {
                errors.Add(new($"{key}:Name", $"'{member.Name}' is used by another member"));
            }

            CheckUrl($"{key}:PeerUrl", member.PeerUrl, errors);
            CheckUrl($"{key}:ClientUrl", member.ClientUrl, errors);
            CheckUrl($"{key}:AgentUrl", member.AgentUrl, errors);
        }
    }

    private static void ValidateApi(ApiOptions? api, List<ConfigurationError> errors)
    {
        if (api is not null && api.KeepFinishedRuns < 1)
        {
            errors.Add(new("Api:KeepFinishedRuns", $"{api.KeepFinishedRuns} must be at least 1"));
        }

        if (api is not null && api.KeepFinishedRunsMinutes < 1)
        {
            errors.Add(new("Api:KeepFinishedRunsMinutes", $"{api.KeepFinishedRunsMinutes} must be at least 1"));
        }

        if (api is null || string.IsNullOrWhiteSpace(api.Urls))
        {
            return;
        }

        var urls = api.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = 0; i < urls.Length; i++)
        {
            // Kestrel accepts wildcard hosts (http://*:8080, http://+:8080) that Uri does not.
            var probe = urls[i].Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!IsHttpUrl(probe))
            {
                errors.Add(new("Api:Urls", $"'{urls[i]}' is not an http(s) URL"));
            }
        }
    }

    private static void CheckUrl(string key, string? value, List<ConfigurationError> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new(key, "is required (an http(s) URL)"));
        }
        else if (!IsHttpUrl(value))
        {
            errors.Add(new(key, $"'{value}' is not an http(s) URL"));
        }
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && !string.IsNullOrEmpty(uri.Host);

    private static void CheckFile(string key, string? path, List<ConfigurationError> errors)
    {
        // Key Vault secret URIs are read (and checked) by the Azure host's resolver at start.
        if (!string.IsNullOrEmpty(path) && !EtcdBackupConfiguration.IsSecretUri(path) && !File.Exists(path))
        {
            errors.Add(new(key, $"file '{path}' does not exist"));
        }
    }

    private static bool Overlaps(string a, string b)
    {
        var x = Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)) + Path.DirectorySeparatorChar;
        var y = Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)) + Path.DirectorySeparatorChar;
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        return x.StartsWith(y, comparison) || y.StartsWith(x, comparison);
    }
}
