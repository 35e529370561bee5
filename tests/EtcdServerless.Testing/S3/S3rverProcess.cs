using System.Globalization;
using System.Net;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Testing.S3;

/// <summary>
/// A real s3rver (npm) process, an S3-compatible server, on a free loopback port with a throw-away data
/// directory. Start one per test class and dispose it: the process is stopped by PID (SIGTERM, then SIGKILL
/// after a grace period) and its directory deleted.
/// </summary>
/// <remarks>
/// s3rver accepts the fixed credentials <see cref="AccessKeyId"/>/<see cref="SecretAccessKey"/> (its README)
/// and checks SigV4 signatures. What it does not implement is part of what the tests show: it ignores
/// <c>If-None-Match</c> on writes (the store falls back to its commit lock), has no Object Lock, no
/// versioning and no multipart abort. It is started as <c>node s3rver.js</c> so the PID we hold is the server.
/// </remarks>
public sealed class S3rverProcess : IAsyncDisposable
{
    /// <summary>s3rver's fixed access key id (not a secret).</summary>
    public const string AccessKeyId = "S3RVER";

    /// <summary>s3rver's fixed secret key (not a secret).</summary>
    public const string SecretAccessKey = "S3RVER";

    private readonly NodeServerProcess _server;

    private S3rverProcess(NodeServerProcess server)
    {
        _server = server;
        Endpoint = EndpointFor(server.Port);
    }

    /// <summary>The loopback port.</summary>
    public int Port => _server.Port;

    /// <summary>The service endpoint, <c>http://127.0.0.1:PORT</c> (path-style buckets).</summary>
    public Uri Endpoint { get; }

    /// <summary>The server's data directory (buckets are folders in it).</summary>
    public string DataDirectory => _server.Workspace;

    /// <summary>What the server printed so far (for failure messages).</summary>
    public string Output => _server.Output;

    /// <summary>Starts s3rver and waits until it answers HTTP. Fails with an install hint when it is missing.</summary>
    public static async Task<S3rverProcess> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = await NodeServerProcess.StartAsync(
            "s3rver",
            "npm install -g s3rver",
            (port, workspace) => ["--directory", workspace, "--address", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--silent"],
            EndpointFor,
            cancellationToken).ConfigureAwait(false);
        return new S3rverProcess(server);
    }

    /// <summary>Creates a bucket (s3rver takes an unsigned request as anonymous). Succeeds when it exists.</summary>
    public async Task CreateBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient();
        using var response = await http.PutAsync(new Uri(Endpoint, "/" + bucket), null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Conflict))
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"s3rver refused to create bucket '{bucket}': {(int)response.StatusCode} {body}");
        }
    }

    /// <summary>Stops the process (SIGTERM, then SIGKILL after a grace period) and deletes its data.</summary>
    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private static Uri EndpointFor(int port) => new($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
}
