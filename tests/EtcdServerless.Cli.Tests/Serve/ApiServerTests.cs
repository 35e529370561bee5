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
    private const string ApiKey = "serve-test-key-0123456789abcdefghijklmnop";

    private sealed class Host : IAsyncDisposable
    {
        public required CliTestEnvironment Env { get; init; }

        public required BackupApplication App { get; init; }

        public required ApiServer Server { get; init; }

        public required HttpClient Http { get; init; }

        public static async Task<Host> StartAsync(IReadOnlyList<string> endpoints, ApiServerLimits? limits = null)
        {
            var env = new CliTestEnvironment();
            await env.InitializeKeysAsync();
            var loaded = ConfigurationLoader.Load(env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = endpoints }, ApiKey), new System.Collections.Hashtable());
            var app = BackupApplication.Create(loaded.Options, NullLoggerFactory.Instance, apiKey: ApiKey);
            var server = await ApiServer.StartAsync(app.Api, "http://127.0.0.1:0", NullLoggerFactory.Instance, limits: limits);
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
    [InlineData("serve-test-key-0123456789abcdefghijklmnoq")]
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
    [InlineData("GET", "/api/nope")]
    [InlineData("GET", "/api/clusters/lab")]
    [InlineData("POST", "/nope")]
    [InlineData("GET", "/")]
    public async Task Request_UnknownRoute_Returns404Problem(string method, string path)
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);

        using var response = await host.Http.SendAsync(host.Request(new HttpMethod(method), path));

        var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("Not Found", problem.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("DELETE", "/api/clusters/lab/backups", "GET, POST")]
    [InlineData("PUT", "/api/clusters/lab/restores", "POST")]
    [InlineData("POST", "/api/instances/x", "GET")]
    public async Task Request_WrongMethod_Returns405ProblemWithAllow(string method, string path, string allowed)
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);

        using var response = await host.Http.SendAsync(host.Request(new HttpMethod(method), path));

        var problem = await AssertProblemAsync(response, HttpStatusCode.MethodNotAllowed);
        Assert.Equal(allowed, string.Join(", ", response.Content.Headers.Allow.Order(StringComparer.Ordinal)));
        Assert.Contains(allowed.Split(", ")[0], problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/clusters/lab/restores", true)]
    [InlineData("/api/clusters/lab/restores", false)]
    [InlineData("/api/clusters/lab/backups", true)]
    public async Task Post_BodyOverLimit_Returns413Problem(string path, bool contentLength)
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);
        var json = "{\"reason\":\"" + new string('r', 70 * 1024) + "\",\"dryRun\":true}";
        var request = host.Request(HttpMethod.Post, path);
        // Without a length the body goes chunked: the limit must hold while reading, not only on the header.
        request.Content = contentLength
            ? new StringContent(json, Encoding.UTF8, "application/json")
            : new StreamContent(new NonSeekableStream(Encoding.UTF8.GetBytes(json)));

        using var response = await host.Http.SendAsync(request);

        Assert.Equal(contentLength, request.Content.Headers.ContentLength is not null);
        var problem = await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("65536", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostRestore_BodyJustUnderLimit_IsReadAndValidated()
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);
        var json = "{\"confirm\":\"x\",\"reason\":\"" + new string('r', 60 * 1024) + "\"}";

        using var response = await host.Http.SendAsync(host.Request(HttpMethod.Post, "/api/clusters/lab/restores", body: json));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("confirm", out _));
    }

    [Theory]
    [InlineData("/api/clusters/{0}/backups")]
    [InlineData("/api/instances/x?pad={0}")]
    public async Task Request_UrlOverLimit_Returns414Problem(string template)
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);

        using var response = await host.Http.SendAsync(host.Request(HttpMethod.Get, string.Format(System.Globalization.CultureInfo.InvariantCulture, template, new string('c', 3000))));

        var problem = await AssertProblemAsync(response, HttpStatusCode.RequestUriTooLong);
        Assert.Contains("2048", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_ClusterNameUnderUrlLimit_Returns404WithTheEchoCut()
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"]);

        using var response = await host.Http.SendAsync(host.Request(HttpMethod.Get, $"/api/clusters/{new string('c', 1900)}/backups"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound);
        Assert.True(problem.GetProperty("detail").GetString()!.Length < 200);
    }

    [Fact]
    public async Task Request_WrongKeysOverBurst_Returns429ProblemWithRetryAfter_EvenForTheRightKey()
    {
        // A replenishment period far beyond the test's run: no token comes back while it runs.
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"], new ApiServerLimits { FailedKeyBurst = 3, FailedKeyReplenishPeriod = TimeSpan.FromHours(1) });

        var statuses = new List<HttpStatusCode>();
        foreach (var key in new[] { "guess-1", null, "guess-3" })
        {
            using var wrong = await host.Http.SendAsync(host.Request(HttpMethod.Get, "/api/clusters/lab/backups", key));
            statuses.Add(wrong.StatusCode);
        }

        using var throttled = await host.Http.SendAsync(host.Request(HttpMethod.Get, "/api/clusters/lab/backups", "guess-4"));
        using var rightKey = await host.Http.SendAsync(host.Request(HttpMethod.Get, "/api/clusters/lab/backups"));
        using var health = await host.Http.GetAsync("/healthz");

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        var problem = await AssertProblemAsync(throttled, HttpStatusCode.TooManyRequests);
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        var retryAfter = throttled.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        // A correct guess while throttled is not answered: the key is not even looked at.
        await AssertProblemAsync(rightKey, HttpStatusCode.TooManyRequests);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Request_RightKeyManyTimes_IsNeverThrottled()
    {
        await using var host = await Host.StartAsync(["http://127.0.0.1:1"], new ApiServerLimits { FailedKeyBurst = 2, FailedKeyReplenishPeriod = TimeSpan.FromHours(1) });

        for (var i = 0; i < 10; i++)
        {
            using var response = await host.Http.SendAsync(host.Request(HttpMethod.Get, "/api/clusters/lab/backups"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var wrong = await host.Http.SendAsync(host.Request(HttpMethod.Get, "/api/clusters/lab/backups", "guess"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Theory]
    [InlineData("""{"backup":"latest","confirm":"other","reason":"drill"}""", "confirm")]
    [InlineData("""{"backup":"latest","reason":"drill"}""", "confirm")]
    [InlineData("""{"dryRun":"yes"}""", "dryRun")]
    [InlineData("""{"dryRun":true,"backup":""}""", "backup")]
    [InlineData("""{"dryRun":true,"backup":"yesterday"}""", "backup")]
    [InlineData("""{"dryRun":true,"newClusterToken":"bad token!"}""", "newClusterToken")]
    [InlineData("""{"dryRun":true,"members":[{"name":"m1","peerUrl":"x","clientUrl":"http://a:1","agentUrl":"http://a:2"}]}""", "members[0].peerUrl")]
    [InlineData("""{"dryRun":true,"forceVersion":"yes"}""", "forceVersion")]
    [InlineData("""{"dryRun":true,"restoreBundle":1}""", "restoreBundle")]
    [InlineData("""{"confirm":"lab"}""", "reason")]
    [InlineData("""{"dryRun":true,"toRevision":"12"}""", "toRevision")]
    [InlineData("""{"dryRun":true,"toRevision":0}""", "toRevision")]
    [InlineData("""{"dryRun":true,"toTime":"yesterday"}""", "toTime")]
    [InlineData("""{"dryRun":true,"toRevision":12,"toTime":"2026-11-30T21:00:00Z"}""", "toTime")]
    [InlineData("""{"dryRun":true,"toRevision":12,"backup":"latest"}""", "backup")]
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

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
        return problem.RootElement.Clone();
    }

    // A body whose length HttpClient cannot know, so it is sent chunked.
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
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
