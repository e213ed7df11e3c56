using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Ketch.Server.Http;

/// <summary>
/// The call context of a gRPC method the JSON gateway runs in process (etcd's grpc-gateway dials
/// the member's own gRPC port instead): the method's name, the HTTP request's cancellation, and its
/// <c>Authorization</c> header as the call's <c>authorization</c> metadata, as grpc-gateway
/// forwards it, for the auth interceptor to resolve the caller from. The gateway's caller is
/// token-only: a client certificate's CN names nobody here, as on etcd's gateway.
/// </summary>
internal sealed class GatewayCallContext : ServerCallContext
{
    private readonly string _method;
    private readonly CancellationToken _cancellation;
    private readonly Metadata _headers = [];
    private readonly Metadata _trailers = [];
    private readonly string _host;
    private readonly string _peer;

    private GatewayCallContext(string method, CancellationToken cancellation, string? token, string host, string peer)
    {
        _method = method;
        _cancellation = cancellation;
        if (!string.IsNullOrEmpty(token))
        {
            _headers.Add("authorization", token);
        }
        _host = host;
        _peer = peer;
    }

    /// <summary>The context of <paramref name="method"/> (<c>/package.Service/Method</c>) called for <paramref name="http"/>.</summary>
    public static GatewayCallContext For(string method, HttpContext http) =>
        new(method, http.RequestAborted, http.Request.Headers.Authorization.ToString(), http.Request.Host.Value ?? "",
            http.Connection.RemoteIpAddress is { } ip ? $"ipv4:{ip}:{http.Connection.RemotePort}" : "");

    /// <summary>A context carrying only the method and the cancellation, for handlers that need no more
    /// (the gateway has checked the caller already).</summary>
    public static GatewayCallContext For(string method, CancellationToken cancellation) => new(method, cancellation, null, "", "");

    protected override string MethodCore => _method;

    protected override string HostCore => _host;

    protected override string PeerCore => _peer;

    protected override DateTime DeadlineCore => DateTime.MaxValue;

    protected override Metadata RequestHeadersCore => _headers;

    protected override CancellationToken CancellationTokenCore => _cancellation;

    protected override Metadata ResponseTrailersCore => _trailers;

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore => new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("the gateway does not propagate calls");

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
