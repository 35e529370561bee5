using EtcdServerless.Workflows.Composition;
using System.CommandLine;
using System.Text.Json;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Core.Keys;
using EtcdServerless.Workflows.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// <c>etcd-backup keys init|rotate|list</c>: create, rotate and list the key-encryption key; <c>keys api-key</c>
/// prints a new API key for <c>Api:ApiKey</c>.
/// </summary>
internal static class KeysCommands
{
    public static Command Create(CliConsole console)
    {
        var keys = new Command("keys", "Create, rotate and list the key-encryption key (KEK) that wraps every backup's data key.");
        keys.Subcommands.Add(Verb(console, "init", "Create the first KEK version if none exists (otherwise show the current one).",
            static (store, ct) => store.InitializeAsync(ct)));
        keys.Subcommands.Add(Verb(console, "rotate", "Create a new current KEK version; old versions stay readable for old backups.",
            static (store, ct) => store.RotateAsync(ct)));
        keys.Subcommands.Add(Verb(console, "list", "List the KEK versions (no key material).", null));
        keys.Subcommands.Add(ApiKeyVerb(console));
        return keys;
    }

    private static Command ApiKeyVerb(CliConsole console)
    {
        var output = CommonOptions.Output();
        var command = new Command("api-key", $"Print a new random API key for {ApiKey.SettingName} (32 random bytes, base64url) to stdout; nothing is stored.") { output };
        CommandAction.Set(command, console, async (parseResult, cancellationToken) =>
        {
            var key = ApiKey.Generate();
            var text = parseResult.GetValue(output) == OutputFormat.Json
                ? JsonSerializer.Serialize(new Dictionary<string, string> { ["apiKey"] = key })
                : key;
            await console.Out.WriteLineAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command Verb(CliConsole console, string name, string description, Func<IKeyStore, CancellationToken, Task<KeyEncryptionKey>>? action)
    {
        var config = CommonOptions.Config();
        var keysDir = new Option<DirectoryInfo?>("--keys-dir")
        {
            Description = "Local key directory (overrides Keys:Uri); must not be inside the backup store.",
        };
        var output = CommonOptions.Output();
        var command = new Command(name, description) { config, keysDir, output };
        CommandAction.Set(command, console, async (parseResult, cancellationToken) =>
        {
            var store = OpenKeyStore(parseResult.GetValue(config), parseResult.GetValue(keysDir));
            if (action is not null)
            {
                using var key = await action(store, cancellationToken).ConfigureAwait(false);
            }

            var versions = await store.ListVersionsAsync(cancellationToken).ConfigureAwait(false);
            await PrintAsync(console, store, versions, parseResult.GetValue(output), cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>The key store from <c>--keys-dir</c>, else from the configuration's <c>Keys:Uri</c> (with its embedded default).</summary>
    private static IKeyStore OpenKeyStore(FileInfo? configFile, DirectoryInfo? keysDirectory)
    {
        var options = ConfigurationLoader.Load(configFile?.FullName).Options;
        if (keysDirectory is not null)
        {
            options.Keys.Uri = new Uri(Path.GetFullPath(keysDirectory.FullName)).AbsoluteUri;
        }

        return StoreFactory.CreateKeyStore(options.Keys, options.Store, TimeProvider.System, NullLoggerFactory.Instance);
    }

    private static async Task PrintAsync(CliConsole console, IKeyStore store, IReadOnlyList<KeyVersionInfo> versions, OutputFormat format, CancellationToken cancellationToken)
    {
        var current = versions.Count > 0 ? versions[^1] : null;
        if (format == OutputFormat.Json)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                json.WriteStartObject();
                json.WriteString("store", store.Description);
                json.WriteString("keyId", current?.KeyId);
                json.WriteString("currentVersion", current?.Version);
                json.WriteStartArray("versions");
                foreach (var v in versions)
                {
                    json.WriteStartObject();
                    json.WriteString("version", v.Version);
                    json.WriteString("created", v.Created);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            await console.Out.WriteLineAsync(System.Text.Encoding.UTF8.GetString(buffer.ToArray()).AsMemory(), cancellationToken).ConfigureAwait(false);
            return;
        }

        await console.Out.WriteLineAsync($"key store: {store.Description}".AsMemory(), cancellationToken).ConfigureAwait(false);
        await console.Out.WriteLineAsync("KEY ID                VERSION  CREATED (UTC)         CURRENT".AsMemory(), cancellationToken).ConfigureAwait(false);
        foreach (var v in versions)
        {
            var line = $"{v.KeyId,-21} {v.Version,-8} {v.Created.UtcDateTime:yyyy-MM-dd HH:mm:ss}   {(ReferenceEquals(v, current) ? "*" : "")}";
            await console.Out.WriteLineAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }
}
