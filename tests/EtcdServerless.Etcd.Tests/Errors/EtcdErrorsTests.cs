using System.Net.Sockets;
using EtcdServerless.Etcd.Errors;
using Grpc.Core;

namespace EtcdServerless.Etcd.Tests.Errors;

public sealed class EtcdErrorsTests
{
    private const string Endpoint = "http://127.0.0.1:2379";

    [Theory]
    [InlineData(StatusCode.Unavailable, typeof(EtcdUnavailableException))]
    [InlineData(StatusCode.Unauthenticated, typeof(EtcdAuthenticationException))]
    [InlineData(StatusCode.PermissionDenied, typeof(EtcdPermissionDeniedException))]
    [InlineData(StatusCode.InvalidArgument, typeof(EtcdInvalidArgumentException))]
    [InlineData(StatusCode.DeadlineExceeded, typeof(EtcdDeadlineExceededException))]
    [InlineData(StatusCode.ResourceExhausted, typeof(EtcdException))]
    public void FromRpc_ServerStatus_MapsToHierarchyAndKeepsInner(StatusCode code, Type expected)
    {
        var rpc = new RpcException(new Status(code, "etcdserver: something"));

        var ex = EtcdErrors.FromRpc(rpc, Endpoint);

        Assert.IsType(expected, ex);
        Assert.Same(rpc, ex.InnerException);
        Assert.Equal((int)code, (int)ex.StatusCode);
        Assert.Equal("etcdserver: something", ex.ServerMessage);
        Assert.Equal(Endpoint, ex.Endpoint);
    }

    [Fact]
    public void FromRpc_UnknownWithPermissionDeniedText_IsPermissionDenied()
    {
        var rpc = new RpcException(new Status(StatusCode.Unknown, "etcdserver: permission denied"));

        Assert.IsType<EtcdPermissionDeniedException>(EtcdErrors.FromRpc(rpc, Endpoint));
    }

    [Fact]
    public void FromRpc_UnknownWithInvalidTokenText_IsAuthenticationAndInvalidToken()
    {
        var rpc = new RpcException(new Status(StatusCode.Unknown, "auth: invalid auth token"));

        var ex = EtcdErrors.FromRpc(rpc, Endpoint);

        Assert.IsType<EtcdAuthenticationException>(ex);
        Assert.True(EtcdErrors.IsInvalidToken(ex));
    }

    [Fact]
    public void FromRpc_StreamResetReportedAsInternal_IsUnavailableNamingTheCause()
    {
        // Grpc.Net.Client reports a connection dying mid-stream as Internal with the IO error as debug exception.
        var cause = new IOException("The response ended prematurely.", new SocketException((int)SocketError.ConnectionReset));
        var rpc = new RpcException(new Status(StatusCode.Internal, "Error reading next message.", cause));

        var ex = EtcdErrors.FromRpc(rpc, Endpoint);

        Assert.IsType<EtcdUnavailableException>(ex);
        Assert.Same(rpc, ex.InnerException);
        Assert.Contains("Error reading next message.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromRpc_DeadlineWithTransportCause_StaysDeadlineExceeded()
    {
        var rpc = new RpcException(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded", new IOException("cancelled")));

        Assert.IsType<EtcdDeadlineExceededException>(EtcdErrors.FromRpc(rpc, Endpoint));
    }

    [Fact]
    public void IsInvalidToken_ExpiredTokenMessage_True()
    {
        var expired = EtcdErrors.FromRpc(new RpcException(new Status(StatusCode.Unauthenticated, "etcdserver: invalid auth token")), Endpoint);
        var wrongPassword = EtcdErrors.FromRpc(new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password")), Endpoint);

        Assert.True(EtcdErrors.IsInvalidToken(expired));
        Assert.False(EtcdErrors.IsInvalidToken(wrongPassword));
    }
}
