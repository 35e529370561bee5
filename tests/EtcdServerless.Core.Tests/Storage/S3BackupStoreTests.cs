using System.Collections.Concurrent;
using System.Security.Cryptography;
using Amazon.Runtime;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Storage;
using EtcdServerless.S3;
using EtcdServerless.Testing.S3;
using EtcdServerless.Testing.Storage;

namespace EtcdServerless.Core.Tests.Storage;

/// <summary>One real s3rver process shared by the S3 test classes; each test uses its own bucket.</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    private S3rverProcess? _server;

    public S3rverProcess Server => _server ?? throw new InvalidOperationException("s3rver is not started.");

    public async Task InitializeAsync() => _server = await S3rverProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    public static string NewBucket() => "t" + Guid.NewGuid().ToString("N")[..20];

    internal S3StoreOptions Options(string? accessKeyId = S3rverProcess.AccessKeyId, string? secret = S3rverProcess.SecretAccessKey) => new()
    {
        ServiceUrl = Server.Endpoint.ToString(),
        Region = "us-east-1",
        AccessKeyId = accessKeyId,
        SecretAccessKey = secret,
    };
}

/// <summary>The store conformance suite and the S3-specific behaviour, against a real s3rver.</summary>
public sealed class S3BackupStoreTests : BackupStoreConformanceTests, IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private const string Prefix = "backups/";
    private static readonly DateTimeOffset Start = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
    private readonly S3rverFixture _fixture;
    private readonly string _bucket = S3rverFixture.NewBucket();
    private readonly List<S3BackupStore> _stores = [];

    public S3BackupStoreTests(S3rverFixture fixture) => _fixture = fixture;

    public Task InitializeAsync() => _fixture.Server.CreateBucketAsync(_bucket);

    public Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        return Task.CompletedTask;
    }

    internal FakeTimeProvider Clock { get; } = new(Start);

    // The shared suite deletes what it wrote, so its store has no default retention; retention is tested below.
    protected override Task<IBackupStore> CreateStoreAsync() =>
        Task.FromResult<IBackupStore>(NewStore(tweak: s => s with { DefaultRetention = TimeSpan.Zero }));

    protected override Task<IBackupStore> CreateMissingStoreAsync() =>
        Task.FromResult<IBackupStore>(NewStore(bucket: S3rverFixture.NewBucket()));

    [Fact]
    public async Task Delete_BeforeRetentionExpires_ThrowsImmutable_AfterwardsDeletes()
    {
        var store = NewStore();
        await WriteAsync(store, "c1/locked", [1], Start.AddHours(1));
        Clock.Advance(TimeSpan.FromMinutes(59));

        await Assert.ThrowsAsync<BackupObjectImmutableException>(() => store.DeleteAsync("c1/locked"));
        Assert.Equal(Start.AddHours(1), (await store.GetInfoAsync("c1/locked"))!.RetainUntil);

        Clock.Advance(TimeSpan.FromMinutes(2));
        await store.DeleteAsync("c1/locked");
        Assert.Null(await store.GetInfoAsync("c1/locked"));
    }

    [Fact]
    public async Task Write_NoRetentionGiven_UsesDefaultRetention()
    {
        var store = NewStore();

        var info = await WriteAsync(store, "c1/default", [1, 2, 3]);

        Assert.Equal(Start.AddDays(7), info.RetainUntil);
        await Assert.ThrowsAsync<BackupObjectImmutableException>(() => store.DeleteAsync("c1/default"));
    }

    private S3BackupStore NewStore(int partSize = 64 * 1024, S3StoreOptions? options = null, string? bucket = null, HttpClientFactory? http = null,
        Func<S3StoreSettings, S3StoreSettings>? tweak = null)
    {
        var settings = new S3StoreSettings
        {
            Bucket = bucket ?? _bucket,
            KeyPrefix = Prefix,
            DefaultRetention = TimeSpan.FromDays(7),
            PartSize = partSize,
            AllowSmallParts = true,
        };
        var store = new S3BackupStore(S3StoreFactory.CreateClient(options ?? _fixture.Options(), http), tweak?.Invoke(settings) ?? settings, Clock);
        _stores.Add(store);
        return store;
    }

    [Fact]
    public async Task Initialize_S3rver_ReportsNoConditionalWritesAndNoObjectLock()
    {
        var capabilities = await NewStore().DetectCapabilitiesAsync();

        // s3rver ignores If-None-Match on PUT and answers 501 to the Object Lock configuration.
        Assert.False(capabilities.ConditionalWrites);
        Assert.False(capabilities.ObjectLock);
        Assert.Contains("does not implement Object Lock", capabilities.ObjectLockDetail, StringComparison.Ordinal);
        Assert.Empty(await ToListAsync(NewStore().ListAsync("")));
    }

    [Fact]
    public async Task OpenWrite_RequireImmutabilityWithoutObjectLock_FailsNamingIt()
    {
        var store = NewStore();

        var ex = await Assert.ThrowsAsync<BackupStoreException>(() => store.OpenWriteAsync("c1/x", new BackupObjectWriteOptions
        {
            RetainUntil = Start.AddDays(1),
            RequireImmutability = true,
        }));

        Assert.Contains("Object Lock not supported", ex.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetInfoAsync("c1/x"));
    }

    [Fact]
    public async Task Write_LargerThanOnePart_GoesMultipartAndReadsBackWithRanges()
    {
        var recorder = new RecordingHttpClientFactory();
        var store = NewStore(partSize: 64 * 1024, http: recorder);
        var content = RandomNumberGenerator.GetBytes(5 * 64 * 1024 + 123);

        await using (var writer = await store.OpenWriteAsync("c1/big", new BackupObjectWriteOptions { Tags = new Dictionary<string, string> { ["cluster"] = "c1" } }))
        {
            // Odd-sized writes so part boundaries fall inside a write.
            for (var offset = 0; offset < content.Length; offset += 10_007)
            {
                await writer.Content.WriteAsync(content.AsMemory(offset, Math.Min(10_007, content.Length - offset)));
            }

            var info = await writer.CommitAsync();
            Assert.Equal(content.Length, info.Length);
        }

        Assert.Equal(content, await ReadAsync(store, "c1/big"));
        Assert.Equal(content.AsSpan(64 * 1024 - 10, 100).ToArray(), await ReadAsync(store, "c1/big", 64 * 1024 - 10, 100));
        Assert.Equal(content.AsSpan(content.Length - 5).ToArray(), await ReadAsync(store, "c1/big", content.Length - 5));
        Assert.Equal("c1", (await store.GetTagsAsync("c1/big"))["cluster"]);
        Assert.Equal(6, recorder.Requests.Count(r => r.Method == "PUT" && r.Query.Contains("partNumber=", StringComparison.Ordinal)));
        Assert.DoesNotContain(recorder.Requests, r => r.Method == "PUT" && r.Path.EndsWith("/c1/big", StringComparison.Ordinal) && r.Query.Length == 0);
    }

    [Fact]
    public async Task Commit_TwoMultipartWritersRacing_ExactlyOneWins()
    {
        var store = NewStore(partSize: 16 * 1024);
        var a = RandomNumberGenerator.GetBytes(100_000);
        var b = RandomNumberGenerator.GetBytes(90_000);
        var first = await store.OpenWriteAsync("c1/mp-race", new BackupObjectWriteOptions());
        var second = await store.OpenWriteAsync("c1/mp-race", new BackupObjectWriteOptions());
        await first.Content.WriteAsync(a);
        await second.Content.WriteAsync(b);

        var outcomes = await Task.WhenAll(new[] { first, second }.Select(w => Task.Run(async () =>
        {
            try
            {
                await w.CommitAsync();
                return true;
            }
            catch (BackupObjectExistsException)
            {
                return false;
            }
        })));
        await first.DisposeAsync();
        await second.DisposeAsync();

        Assert.Single(outcomes, o => o);
        var stored = await ReadAsync(store, "c1/mp-race");
        Assert.True(stored.SequenceEqual(a) || stored.SequenceEqual(b));
    }

    [Fact]
    public async Task Dispose_AbandonedMultipart_LeavesNothingVisible()
    {
        var store = NewStore(partSize: 16 * 1024);
        await using (var writer = await store.OpenWriteAsync("c1/mp-abandoned", new BackupObjectWriteOptions()))
        {
            await writer.Content.WriteAsync(RandomNumberGenerator.GetBytes(50_000));
        }

        Assert.Null(await store.GetInfoAsync("c1/mp-abandoned"));
        Assert.Empty(await ToListAsync(store.ListAsync("")));
    }

    [Fact]
    public async Task Commit_LockClaimHeldByAnotherWriter_WaitsAndThenReportsExists()
    {
        // Another writer's live claim: this commit must not go ahead while it is there.
        var store = NewStore();
        using var raw = S3StoreFactory.CreateClient(_fixture.Options());
        var claimKey = Prefix + S3BackupStore.InternalFolder + "locks/c1!held~other";
        await raw.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = _bucket, Key = claimKey, ContentBody = "", UseChunkEncoding = false });
        await using var writer = await store.OpenWriteAsync("c1/held", new BackupObjectWriteOptions());
        await writer.Content.WriteAsync(new byte[] { 1, 2, 3 });

        var commit = writer.CommitAsync();
        await Task.Delay(300);
        Assert.False(commit.IsCompleted);
        Assert.Null(await store.GetInfoAsync("c1/held"));

        // The other writer commits and releases its claim: this one now finds the object and loses.
        await raw.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest
        {
            BucketName = _bucket, Key = Prefix + "c1/held", ContentBody = "theirs", UseChunkEncoding = false,
        });
        await raw.DeleteObjectAsync(_bucket, claimKey);

        await Assert.ThrowsAsync<BackupObjectExistsException>(() => commit);
        Assert.Equal("theirs"u8.ToArray(), await ReadAsync(store, "c1/held"));
    }

    [Fact]
    public async Task Write_ServerGoneMidUpload_FailsWithStoreExceptionNamingTheObject()
    {
        var own = await S3rverProcess.StartAsync();
        await own.CreateBucketAsync(_bucket);
        var options = _fixture.Options();
        options.ServiceUrl = own.Endpoint.ToString();
        var store = NewStore(partSize: 16 * 1024, options: options);
        var writer = await store.OpenWriteAsync("c1/cut", new BackupObjectWriteOptions());
        await writer.Content.WriteAsync(RandomNumberGenerator.GetBytes(40_000));

        await own.DisposeAsync();
        var ex = await Assert.ThrowsAsync<BackupStoreException>(async () =>
        {
            await writer.Content.WriteAsync(RandomNumberGenerator.GetBytes(100_000));
            await writer.CommitAsync();
        });
        await writer.DisposeAsync();

        Assert.NotNull(ex.InnerException);
        Assert.Contains("c1/cut", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_ServerSideEncryptionKms_SendsSseHeadersOnPutAndMultipart()
    {
        var recorder = new RecordingHttpClientFactory();
        var store = NewStore(partSize: 16 * 1024, http: recorder, tweak: s => s with
        {
            ServerSideEncryption = Amazon.S3.ServerSideEncryptionMethod.AWSKMS,
            KmsKeyId = "arn:aws:kms:us-east-1:111122223333:key/test",
        });

        await WriteAsync(store, "c1/small", [1, 2, 3]);
        await WriteAsync(store, "c1/large", RandomNumberGenerator.GetBytes(40_000));

        var writes = recorder.Requests.Where(r => r.Path.Contains("/c1/", StringComparison.Ordinal)
            && (r.Method == "PUT" && !r.Query.Contains("partNumber", StringComparison.Ordinal) && !r.Query.Contains("tagging", StringComparison.Ordinal)
                || r.Method == "POST" && r.Query.Contains("uploads", StringComparison.Ordinal))).ToList();
        Assert.Equal(2, writes.Count);
        Assert.All(writes, w =>
        {
            Assert.Equal("aws:kms", w.Headers["x-amz-server-side-encryption"]);
            Assert.Equal("arn:aws:kms:us-east-1:111122223333:key/test", w.Headers["x-amz-server-side-encryption-aws-kms-key-id"]);
            Assert.False(w.Headers.ContainsKey("x-amz-object-lock-mode"));
        });
    }

    [Fact]
    public async Task Operations_UnknownAccessKey_ThrowStoreExceptionKeepingSdkError()
    {
        var store = NewStore(options: _fixture.Options(accessKeyId: "NOT-S3RVER", secret: "wrong-secret"));

        var ex = await Assert.ThrowsAsync<BackupStoreException>(() => store.OpenWriteAsync("c1/x", new BackupObjectWriteOptions()));

        Assert.IsType<Amazon.S3.AmazonS3Exception>(ex.InnerException);
        Assert.Contains("403", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operations_MissingBucket_SayWhatToDo()
    {
        var store = NewStore(bucket: S3rverFixture.NewBucket());

        // A HEAD has no body to tell a missing bucket from a missing key; the first write does.
        var ex = await Assert.ThrowsAsync<BackupStoreException>(() => store.OpenWriteAsync("c1/x", new BackupObjectWriteOptions()));

        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
        Assert.Contains("create it first (etcd-backup store init)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Initialize_MissingBucket_CreatesItOnceAndReportsNoObjectLock()
    {
        var bucket = S3rverFixture.NewBucket();
        var store = NewStore(bucket: bucket);

        var first = await store.InitializeAsync();
        var second = await NewStore(bucket: bucket).InitializeAsync();
        await WriteAsync(store, "c1/x", [1]);

        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.False(first.Protected);
        Assert.Equal("Object Lock not supported", first.Immutability);
        Assert.Contains(first.Warnings, w => w.Contains("enforced by this tool only", StringComparison.Ordinal));
        Assert.True(Directory.Exists(Path.Combine(_fixture.Server.DataDirectory, bucket)));
        Assert.Equal([1], await ReadAsync(NewStore(bucket: bucket), "c1/x"));
    }

    [Fact]
    public async Task Factory_S3Uri_UsesPrefixAndEnvironmentStyleSettings()
    {
        var location = StoreLocation.TryParseStore($"s3://{_bucket}/team-a/etcd", out var error);
        Assert.Null(error);
        using var store = S3StoreFactory.Create(location!, new StoreOptions { ImmutabilityDays = 3, S3 = _fixture.Options() }, Clock,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        var info = await WriteAsync(store, "c1/a", [7]);

        Assert.Equal("team-a/etcd/", store.Settings.KeyPrefix);
        Assert.Equal(Start.AddDays(3), info.RetainUntil);
        Assert.True(File.Exists(Path.Combine(_fixture.Server.DataDirectory, _bucket, "team-a", "etcd", "c1", "a._S3rver_object")));
    }

    [Theory]
    [InlineData("s3://", "names no valid bucket")]
    [InlineData("s3://AB/x", "names no valid bucket")]
    [InlineData("s3://bucket/a//b", "empty or dot segment")]
    [InlineData("s3://bucket/../b", "empty or dot segment")]
    [InlineData("s3://bucket/x?versionId=1", "query string")]
    public void StoreLocation_BadS3Uri_IsRejected(string uri, string expected)
    {
        Assert.Null(StoreLocation.TryParseStore(uri, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AES256", "kms-key")]
    [InlineData("rot13", null)]
    public void Factory_BadEncryptionSettings_AreRejected(string sse, string? kms)
    {
        var location = StoreLocation.TryParseStore("s3://bucket", out _)!;
        var options = new StoreOptions { S3 = new S3StoreOptions { ServerSideEncryption = sse, KmsKeyId = kms, Region = "us-east-1" } };

        Assert.Throws<ArgumentException>(() => S3StoreFactory.Create(location, options, Clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
    }

    /// <summary>Records what the SDK sends (method, path, query, x-amz-* headers) while passing it on to s3rver.</summary>
    private sealed class RecordingHttpClientFactory : HttpClientFactory
    {
        public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Recorder(this));

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        private sealed class Recorder(RecordingHttpClientFactory owner) : DelegatingHandler(new HttpClientHandler())
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
                    .Where(h => h.Key.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase))
                    .ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value));
                owner.Requests.Enqueue(new RecordedRequest(request.Method.Method, request.RequestUri!.AbsolutePath, request.RequestUri.Query, headers));
                return base.SendAsync(request, cancellationToken);
            }
        }
    }

    private sealed record RecordedRequest(string Method, string Path, string Query, Dictionary<string, string> Headers);
}
