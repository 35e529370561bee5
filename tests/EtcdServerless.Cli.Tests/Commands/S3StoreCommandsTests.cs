using System.Text.Json;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.S3;

namespace EtcdServerless.Cli.Tests.Commands;

/// <summary>Backups through a real s3rver with the CLI: the AWS environment variables, and Store:S3 settings.</summary>
[Trait("Category", "Cli")]
public sealed class S3StoreCommandsTests
{
    [Fact]
    public async Task BackupRunListVerify_S3StoreByAwsEnvironment_RoundTrip()
    {
        // Arrange: credentials, region and endpoint only in the AWS_* variables of the CLI process.
        await using var s3 = await S3rverProcess.StartAsync();
        await s3.CreateBucketAsync("etcd-backups");
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        for (var i = 0; i < 30; i++)
        {
            await cluster.EtcdCtlAsync("put", $"/registry/pods/default/p{i}", new string('x', 2000));
        }

        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = WriteConfig(env, cluster.ClientUrls, "s3://etcd-backups/prod/etcd", s3: null);
        var aws = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = S3rverProcess.AccessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = S3rverProcess.SecretAccessKey,
            ["AWS_REGION"] = "us-east-1",
            ["AWS_ENDPOINT_URL_S3"] = s3.Endpoint.ToString(),
        };

        // Act
        var run = await CliProcess.RunAsync(aws, "backup", "run", "--config", config, "-o", "json");
        Assert.True(run.ExitCode == 0, run.Err + s3.Output);
        using var result = JsonDocument.Parse(run.Out);
        var backupId = result.RootElement.GetProperty("manifest").GetProperty("backupId").GetString()!;
        var list = await CliProcess.RunAsync(aws, "backup", "list", "--config", config, "-o", "json");
        var verify = await CliProcess.RunAsync(aws, "backup", "verify", backupId, "--config", config);

        // Assert: the objects are in the bucket under the prefix, and verify re-read and re-checked them.
        Assert.True(list.ExitCode == 0, list.Err);
        Assert.Contains(backupId, list.Out, StringComparison.Ordinal);
        Assert.True(verify.ExitCode == 0, verify.Err + verify.Out);
        Assert.Contains("all checks passed", verify.Out, StringComparison.Ordinal);
        var stored = Directory.GetFiles(Path.Combine(s3.DataDirectory, "etcd-backups", "prod", "etcd"), "*._S3rver_object", SearchOption.AllDirectories)
            .Select(Path.GetFileName).ToList();
        Assert.Contains($"{backupId}.snap.enc._S3rver_object", stored);
        Assert.Contains($"{backupId}.manifest.json._S3rver_object", stored);
    }

    [Fact]
    public async Task BackupRun_S3StoreSettingsWithWrongKey_ExitsOneWithOneLineError()
    {
        await using var s3 = await S3rverProcess.StartAsync();
        await s3.CreateBucketAsync("etcd-backups");
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = WriteConfig(env, cluster.ClientUrls, "s3://etcd-backups", new
        {
            ServiceUrl = s3.Endpoint.ToString(),
            Region = "us-east-1",
            AccessKeyId = "NOT-S3RVER",
            SecretAccessKey = "do-not-print-me",
        });

        var run = await Cli.RunAsync("backup", "run", "--config", config);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("403", run.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("do-not-print-me", run.Err + run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Err, StringComparison.Ordinal);
    }

    private static string WriteConfig(CliTestEnvironment env, IReadOnlyList<string> endpoints, string storeUri, object? s3)
    {
        var config = new Dictionary<string, object?>
        {
            ["Store"] = s3 is null ? new { Uri = storeUri, ImmutabilityDays = 1 } : new { Uri = storeUri, ImmutabilityDays = 1, S3 = s3 },
            ["Keys"] = new { Uri = new Uri(env.KeysDir).AbsoluteUri },
            ["Clusters"] = new Dictionary<string, object> { ["lab"] = new { Endpoints = endpoints } },
        };
        File.WriteAllText(env.ConfigPath, JsonSerializer.Serialize(config));
        return env.ConfigPath;
    }
}
