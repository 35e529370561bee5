using System.Text;
using System.Text.Json;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using EtcdServerless.Testing.Workflows;
using EtcdServerless.Workflows.Composition;
using EtcdServerless.Workflows.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace EtcdServerless.Functions.Tests;

/// <summary>
/// The Function App's HTTP triggers, called as the host would call them: real <see cref="HttpRequest"/> objects,
/// a real <c>DurableTaskClient</c> from the Durable Task engine, a real etcd member and the local store behind the
/// activities.
/// </summary>
public sealed class HttpFunctionsTests : IAsyncLifetime
{
    private const string Key = "0123456789abcdef0123456789abcdef";
    private const string Cluster = "fx";

    private EtcdTestCluster _etcd = null!;
    private TempDirectory _temp = null!;
    private WorkflowTestHost _engine = null!;
    private HttpFunctions _functions = null!;

    public async Task InitializeAsync()
    {
        _etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await _etcd.EtcdCtlAsync("put", "/registry/a", "b");
        _temp = new TempDirectory("fx");
        var keys = new LocalKeyStore(_temp.Combine("keys"));
        await keys.InitializeAsync();
        var store = new LocalDirectoryBackupStore(_temp.Combine("store"), TimeSpan.Zero);
        var options = new EtcdBackupOptions { Clusters = { [Cluster] = new ClusterOptions { Endpoints = [.. _etcd.ClientUrls] } } };
        var pipeline = new BackupPipelineOptions { TempDirectory = _temp.Path };
        _engine = await WorkflowTestHost.StartAsync(s => s.AddSingleton<IBackupStore>(store).AddSingleton<IKeyStore>(keys).AddEtcdBackup(options, pipeline));
        _functions = new HttpFunctions(options, new BackupCatalog(store), new ApiKey(Key), TimeProvider.System);
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _etcd.DisposeAsync();
        _temp.Dispose();
    }

    [Fact]
    public async Task StartBackup_WithKey_Returns202ThenTheInstanceCompletes()
    {
        var (status, body, headers) = await CallAsync(r => _functions.StartBackupAsync(r, Cluster, _engine.Client), "POST", $"/api/clusters/{Cluster}/backups");

        Assert.Equal(StatusCodes.Status202Accepted, status);
        var id = body.GetProperty("id").GetString()!;
        Assert.False(body.GetProperty("deduplicated").GetBoolean());
        Assert.EndsWith($"/api/instances/{id}", headers.Location.ToString(), StringComparison.Ordinal);

        JsonElement instance;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        do
        {
            (status, instance, _) = await CallAsync(r => _functions.GetInstanceAsync(r, id, _engine.Client), "GET", $"/api/instances/{id}");
            await Task.Delay(200);
        }
        while (status == StatusCodes.Status202Accepted && DateTime.UtcNow < deadline);

        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.Equal("Completed", instance.GetProperty("runtimeStatus").GetString());
        Assert.True(instance.GetProperty("output").GetProperty("succeeded").GetBoolean(), instance.GetRawText());
        (status, var list, _) = await CallAsync(r => _functions.ListBackupsAsync(r, Cluster, _engine.Client), "GET", $"/api/clusters/{Cluster}/backups");
        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.Equal(1, list.GetArrayLength());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-wrong-key-wrong-key-wrong")]
    public async Task StartBackup_WithoutTheKey_Returns401ProblemAndStartsNothing(string? key)
    {
        var (status, body, headers) = await CallAsync(r => _functions.StartBackupAsync(r, Cluster, _engine.Client), "POST", $"/api/clusters/{Cluster}/backups", key: key);

        Assert.Equal(StatusCodes.Status401Unauthorized, status);
        Assert.Equal("application/problem+json", headers.ContentType);
        Assert.Equal(401, body.GetProperty("status").GetInt32());
        Assert.DoesNotContain(Directory.EnumerateFiles(_temp.Combine("store"), "*", SearchOption.AllDirectories), f => f.EndsWith(".json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartBackup_KeyInCodeQuery_IsAccepted()
    {
        var (status, _, _) = await CallAsync(r => _functions.StartBackupAsync(r, Cluster, _engine.Client), "POST", $"/api/clusters/{Cluster}/backups", key: null, query: $"?code={Key}");
        Assert.Equal(StatusCodes.Status202Accepted, status);
    }

    [Fact]
    public async Task StartBackup_ConcurrentRequests_OneRunTheOthersJoined()
    {
        var calls = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            CallAsync(r => _functions.StartBackupAsync(r, Cluster, _engine.Client), "POST", $"/api/clusters/{Cluster}/backups")));

        var ids = calls.Select(c => c.Body.GetProperty("id").GetString()).Distinct().ToList();
        Assert.Single(ids);
        Assert.Equal(4, calls.Count(c => c.Body.GetProperty("deduplicated").GetBoolean()));
        await _engine.CompleteAsync<BackupResult>(ids[0]!);
    }

    [Fact]
    public async Task StartBackup_UnknownCluster_Returns404AndCutsTheEcho()
    {
        var name = new string('x', 5000);
        var (status, body, _) = await CallAsync(r => _functions.StartBackupAsync(r, name, _engine.Client), "POST", "/api/clusters/x/backups");

        Assert.Equal(StatusCodes.Status404NotFound, status);
        Assert.True(body.GetProperty("detail").GetString()!.Length < 200);
    }

    [Fact]
    public async Task StartRestore_BadBody_Returns400NamingTheField_AndValidBodyWithoutAgentTls_Returns409()
    {
        var (bad, problem, _) = await CallAsync(r => _functions.StartRestoreAsync(r, Cluster, _engine.Client), "POST", $"/api/clusters/{Cluster}/restores", body: "{\"dryRun\":\"yes\"}");
        var members = "[{\"name\":\"m1\",\"peerUrl\":\"http://127.0.0.1:1\",\"clientUrl\":\"http://127.0.0.1:2\",\"agentUrl\":\"https://127.0.0.1:3\"}]";
        var (notConfigured, conflict, _) = await CallAsync(r => _functions.StartRestoreAsync(r, Cluster, _engine.Client), "POST", $"/api/clusters/{Cluster}/restores",
            body: $"{{\"dryRun\":true,\"members\":{members}}}");

        Assert.Equal(StatusCodes.Status400BadRequest, bad);
        Assert.True(problem.GetProperty("errors").TryGetProperty("dryRun", out _));
        Assert.Equal(StatusCodes.Status409Conflict, notConfigured);
        Assert.Contains("Restore:AgentTls", conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StartRestore_BodyOverLimit_Returns413ProblemAndStartsNothing(bool contentLength)
    {
        var body = "{\"dryRun\":true,\"reason\":\"" + new string('r', BackupApi.MaxBodyBytes) + "\"}";

        var (status, problem, headers) = await CallAsync(r => _functions.StartRestoreAsync(r, Cluster, _engine.Client), "POST", $"/api/clusters/{Cluster}/restores",
            body: body, contentLength: contentLength);

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, status);
        Assert.Equal("application/problem+json", headers.ContentType);
        Assert.Equal(413, problem.GetProperty("status").GetInt32());
        Assert.Contains(BackupApi.MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartRestore_BodyAtLimit_IsReadAndValidated()
    {
        var prefix = "{\"confirm\":\"x\",\"reason\":\"";
        var body = prefix + new string('r', BackupApi.MaxBodyBytes - prefix.Length - 2) + "\"}";
        Assert.Equal(BackupApi.MaxBodyBytes, body.Length);

        var (status, problem, _) = await CallAsync(r => _functions.StartRestoreAsync(r, Cluster, _engine.Client), "POST", $"/api/clusters/{Cluster}/restores", body: body);

        Assert.Equal(StatusCodes.Status400BadRequest, status);
        Assert.True(problem.GetProperty("errors").TryGetProperty("confirm", out _));
    }

    [Fact]
    public async Task GetInstance_Unknown_Returns404Problem()
    {
        var (status, body, _) = await CallAsync(r => _functions.GetInstanceAsync(r, "backup-fx-20260101T000000000Z-00000000", _engine.Client), "GET", "/api/instances/x");
        Assert.Equal(StatusCodes.Status404NotFound, status);
        Assert.Equal("Not found", body.GetProperty("title").GetString());
    }

    private static async Task<(int Status, JsonElement Body, IHeaderDictionary Headers)> CallAsync(
        Func<HttpRequest, Task<Microsoft.AspNetCore.Mvc.IActionResult>> function, string method, string path, string? key = Key, string? body = null, string query = "", bool contentLength = true)
    {
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider(),
        };
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("fx.azurewebsites.net");
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(string.IsNullOrEmpty(query) ? null : query);
        if (key is not null)
        {
            context.Request.Headers["x-api-key"] = key;
        }

        var bytes = Encoding.UTF8.GetBytes(body ?? "");
        context.Request.Body = new MemoryStream(bytes);
        if (contentLength && body is not null)
        {
            context.Request.ContentLength = bytes.Length;
        }
        var response = new MemoryStream();
        context.Response.Body = response;

        await function(context.Request);

        var text = Encoding.UTF8.GetString(response.ToArray());
        using var document = JsonDocument.Parse(text.Length == 0 ? "null" : text);
        return (context.Response.StatusCode, document.RootElement.Clone(), context.Response.Headers);
    }
}
