using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Serve;
using EtcdServerless.Testing.Etcd;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Cli.Tests.Serve;

[Trait("Category", "Cli")]
public sealed class ApiServerTests
{
    private const string ApiKey = "test-key-123";

    private sealed class Host : IAsyncDisposable
    {
        public required CliTestEnvironment Env { get; init; }

        public required BackupApplication App { get; init; }

        public required ApiServer Server { get; init; }

        public required HttpClient Http { get; init; }

        public static async Task<Host> StartAsync(IReadOnlyList<string> endpoints)
        {
            var env = new CliTestEnvironment();
            await env.InitializeKeysAsync();
            var loaded = ConfigurationLoader.Load(env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = endpoints }, ApiKey), new System.Collections.Hashtable());
            var app = BackupApplication.Create(loaded.Options, NullLoggerFactory.Instance, apiKey: ApiKey);
            var server = await ApiServer.StartAsync(app.Api, "http://127.0.0.1:0", NullLoggerFactory.Instance);
            var http = new HttpClient { BaseAddress = server.Addresses[0] };
            return new Host { Env = env, App = app, Server = server, Http = http };
        }

        public HttpRequestMessage Request(HttpMethod method, string path, string? key = ApiKey, string? body = null)
        {
            var request = new HttpRequestMessage(method, path);
            if (key is not null)
            {
                request.Headers.Add("x-api-key", key);
            }

            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            return request;
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await Server.DisposeAsync();
            await App.DisposeAsync();
            Env.Dispose();
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task Post_MissingOrWrongApiKey_Returns401Problem(string? key)
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);

        using var response = await host.Http.SendAsync(host.Request(HttpMethod.Post, "/api/clusters/lab/backups", key));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(401, problem.RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Get_CodeQueryParameter_IsAccepted()
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);

        using var response = await host.Http.GetAsync($"/api/clusters/lab/backups?code={ApiKey}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[]", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("POST", "/api/clusters/nope/backups")]
    [InlineData("GET", "/api/clusters/nope/backups")]
    [InlineData("POST", "/api/clusters/nope/restores")]
    [InlineData("GET", "/api/instances/nope")]
    public async Task Request_UnknownClusterOrInstance_Returns404(string method, string path)
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);

        using var response = await host.Http.SendAsync(host.Request(new HttpMethod(method), path, body: method == "POST" ? "{}" : null));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("""{"backup":"latest","confirm":"other","reason":"drill"}""", "confirm")]
    [InlineData("""{"backup":"latest","reason":"drill"}""", "confirm")]
    [InlineData("""{"dryRun":"yes"}""", "dryRun")]
    [InlineData("""{"dryRun":true,"backup":""}""", "backup")]
    [InlineData("""{"dryRun":true,"backup":"yesterday"}""", "backup")]
    [InlineData("""{"dryRun":true,"newClusterToken":"bad token!"}""", "newClusterToken")]
    [InlineData("""{"dryRun":true,"members":[{"name":"m1","peerUrl":"x","clientUrl":"http://a:1","agentUrl":"http://a:2"}]}""", "members[0].peerUrl")]
    [InlineData("""{"confirm":"lab"}""", "reason")]
    [InlineData("""not json""", "body")]
    [InlineData("""[1,2]""", "body")]
    public async Task PostRestore_BadInput_Returns400NamingTheField(string body, string field)
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);

        using var response = await host.Http.SendAsync(host.Request(HttpMethod.Post, "/api/clusters/lab/restores", body: body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Invalid request", problem.RootElement.GetProperty("title").GetString());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), problem.RootElement.ToString());
    }

    [Fact]
    public async Task PostRestore_AgentTlsNotConfigured_Returns409NamingTheSetting()
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);
        var body = """{"dryRun":true,"members":[{"name":"m1","peerUrl":"http://127.0.0.1:2380","clientUrl":"http://127.0.0.1:2379","agentUrl":"https://127.0.0.1:1"}]}""";

        using var response = await host.Http.SendAsync(host.Request(HttpMethod.Post, "/api/clusters/lab/restores", body: body));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("Restore:AgentTls:CertFile", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostRestore_ConfirmMismatch_MessageSaysMustEqualClusterName()
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);

        using var response = await host.Http.SendAsync(host.Request(HttpMethod.Post, "/api/clusters/lab/restores", body: """{"confirm":"x","reason":"r"}"""));

        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("must equal the cluster name", problem.RootElement.GetProperty("errors").GetProperty("confirm")[0].GetString());
    }

    [Fact]
    public async Task PostBackup_RealEtcd_Returns202AndStatusUrlReachesCompleted()
    {
        // Arrange
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/registry/x", "y");
        await using var host = await Host.StartAsync(cluster.ClientUrls);

        // Act
        using var response = await host.Http.SendAsync(host.Request(HttpMethod.Post, "/api/clusters/lab/backups"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!;
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(location.ToString(), accepted.GetProperty("statusQueryGetUri").GetString());
        var status = await PollAsync(host, location);

        // Assert
        Assert.Equal("Completed", status.GetProperty("runtimeStatus").GetString());
        Assert.True(status.GetProperty("output").GetProperty("succeeded").GetBoolean(), status.ToString());
        using var list = await host.Http.SendAsync(host.Request(HttpMethod.Get, "/api/clusters/lab/backups"));
        var backups = await list.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, backups.GetArrayLength());
    }

    [Fact]
    public async Task PostBackup_TwoAtOnce_StartOneBackup()
    {
        // Arrange
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await host_put(cluster);
        await using var host = await Host.StartAsync(cluster.ClientUrls);

        // Act
        var first = host.Http.SendAsync(host.Request(HttpMethod.Post, "/api/clusters/lab/backups"));
        var second = host.Http.SendAsync(host.Request(HttpMethod.Post, "/api/clusters/lab/backups"));
        using var a = await first;
        using var b = await second;
        var idA = (await a.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var idB = (await b.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        await PollAsync(host, a.Headers.Location!);

        // Assert
        Assert.Equal(HttpStatusCode.Accepted, a.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, b.StatusCode);
        Assert.Equal(idA, idB);
        Assert.Single(await host.App.Catalog.ListAsync("lab"));

        static Task host_put(EtcdTestCluster c) => c.EtcdCtlAsync("put", "/registry/y", "z");
    }

    private static async Task<JsonElement> PollAsync(Host host, Uri location)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            using var response = await host.Http.SendAsync(host.Request(HttpMethod.Get, location.PathAndQuery), timeout.Token);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(timeout.Token);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return body;
            }

            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            await Task.Delay(200, timeout.Token);
        }
    }
}
