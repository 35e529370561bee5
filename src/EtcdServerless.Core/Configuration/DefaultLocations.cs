namespace EtcdServerless.Core.Configuration;

/// <summary>
/// The embedded defaults used when <c>Store:Uri</c> or <c>Keys:Uri</c> is empty: a local WORM directory store
/// and a local key directory, in two separate trees so the keys are never beside the data.
/// </summary>
/// <remarks>
/// As root (a server install): <c>/var/lib/etcd-backup/store</c> and <c>/etc/etcd-backup/keys</c>.
/// As a user: <c>$XDG_STATE_HOME/etcd-backup/store</c> (default <c>~/.local/state</c>) and
/// <c>$XDG_CONFIG_HOME/etcd-backup/keys</c> (default <c>~/.config</c>). On Windows both live under
/// <c>%LOCALAPPDATA%\etcd-backup</c> in sibling folders.
/// </remarks>
public static class DefaultLocations
{
    /// <summary>Folder name used under every base directory.</summary>
    public const string ProductFolder = "etcd-backup";

    /// <summary>The default store directory for the current user.</summary>
    public static string StoreDirectory(Func<string, string?>? environment = null) =>
        Resolve(environment).Store;

    /// <summary>The default key directory for the current user.</summary>
    public static string KeysDirectory(Func<string, string?>? environment = null) =>
        Resolve(environment).Keys;

    private static (string Store, string Keys) Resolve(Func<string, string?>? environment)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (OperatingSystem.IsWindows())
        {
            var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            return (Path.Combine(local, ProductFolder, "store"), Path.Combine(local, ProductFolder, "keys"));
        }

        if (Environment.IsPrivilegedProcess)
        {
            return ("/var/lib/etcd-backup/store", "/etc/etcd-backup/keys");
        }

        var home = environment("HOME");
        if (string.IsNullOrEmpty(home))
        {
            home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }

        var state = NonEmpty(environment("XDG_STATE_HOME")) ?? Path.Combine(home, ".local", "state");
        var config = NonEmpty(environment("XDG_CONFIG_HOME")) ?? Path.Combine(home, ".config");
        return (Path.Combine(state, ProductFolder, "store"), Path.Combine(config, ProductFolder, "keys"));
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
