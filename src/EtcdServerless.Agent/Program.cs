using EtcdServerless.Agent;
using EtcdServerless.Agent.Configuration;

// etcd-backup-agent [--config FILE]: the member side of a restore. Settings come from the JSON file's "Agent"
// section and environment variables (Agent__DataDir=...), see docs and deploy/ examples.
var configFile = ArgumentValue(args, "--config");
var configuration = new ConfigurationBuilder();
if (configFile is not null)
{
    configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
}

configuration.AddEnvironmentVariables();
var options = configuration.Build().GetSection("Agent").Get<AgentOptions>() ?? new AgentOptions();
try
{
    var app = AgentHost.Build(options);
    await using (app.ConfigureAwait(false))
    {
        await AgentHost.StartAsync(app).ConfigureAwait(false);
        await app.WaitForShutdownAsync().ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
        return 0;
    }
}
catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or System.Security.Cryptography.CryptographicException)
{
    await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
    return 1;
}

static string? ArgumentValue(string[] args, string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
