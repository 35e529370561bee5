namespace EtcdServerless.Etcd.Grpc;

/// <summary>Per-call deadline and metadata.</summary>
internal readonly record struct GrpcCallSettings(TimeSpan? Timeout, IReadOnlyList<KeyValuePair<string, string>>? Headers = null);
