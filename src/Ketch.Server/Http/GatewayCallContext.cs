using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Ketch.Server.Http;

/// <summary>
/// The call context of a gRPC method the JSON gateway runs in process (etcd's grpc-gateway dials
/// the member's own gRPC port instead): the method's name, the HTTP request's cancellation, and the
/// metadata grpc-gateway forwards (<see cref="Headers"/>): the <c>Authorization</c> header for the
/// auth interceptor to resolve the caller from, and <c>Grpc-Metadata-Hasleader</c> for
/// <see cref="Api.RequireLeaderGate"/>. The gateway's caller is token-only: a client certificate's
/// CN names nobody here, as on etcd's gateway.
/// </summary>
internal sealed class GatewayCallContext : ServerCallContext
{
    private readonly string _method;
    private readonly CancellationToken _cancellation;
    private readonly Metadata _headers;
    private readonly Metadata _trailers = [];
    private readonly string _host;
    private readonly string _peer;
    private readonly Dictionary<object, object> _userState = [];

    /// <summary>grpc-gateway's prefix of a header it forwards as metadata under the rest of its name.</summary>
    private const string MetadataHeaderPrefix = "Grpc-Metadata-";

    /// <summary>Where ASP.NET Core's gRPC finds the HttpContext of a context that is not its own
    /// (<c>GetHttpContext</c>), so that interceptors which wrap the context can hand it on.</summary>
    private const string HttpContextKey = "__HttpContext";

    private GatewayCallContext(string method, CancellationToken cancellation, Metadata headers, string host, string peer, HttpContext? http)
    {
        _method = method;
        _cancellation = cancellation;
        _headers = headers;
        _host = host;
        _peer = peer;
        if (http is not null)
        {
            _userState[HttpContextKey] = http;
        }
    }

    /// <summary>The context of <paramref name="method"/> (<c>/package.Service/Method</c>) called for <paramref name="http"/>.</summary>
    public static GatewayCallContext For(string method, HttpContext http) =>
        new(method, http.RequestAborted, Headers(http.Request), http.Request.Host.Value ?? "",
            http.Connection.RemoteIpAddress is { } ip ? $"ipv4:{ip}:{http.Connection.RemotePort}" : "", http);

    /// <summary>A context carrying only the method and the cancellation, for handlers that need no more
    /// (the gateway has checked the caller already).</summary>
    public static GatewayCallContext For(string method, CancellationToken cancellation) => new(method, cancellation, [], "", "", null);

    /// <summary>
    /// The metadata grpc-gateway's default header matcher makes of <paramref name="request"/>'s
    /// headers: <c>Authorization</c> as <c>authorization</c>, and each <c>Grpc-Metadata-Name</c> as
    /// <c>name</c> (e.g. <c>Grpc-Metadata-Hasleader: true</c>, etcd's require-leader metadata). Names
    /// that are not valid gRPC metadata keys, and binary (<c>-bin</c>) ones, are left out: etcd reads
    /// neither.
    /// </summary>
    public static Metadata Headers(HttpRequest request)
    {
        Metadata headers = [];
        var token = request.Headers.Authorization.ToString();
        if (token.Length > 0)
        {
            headers.Add("authorization", token);
        }
        foreach (var (name, values) in request.Headers)
        {
            if (name.Length <= MetadataHeaderPrefix.Length || !name.StartsWith(MetadataHeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var key = name[MetadataHeaderPrefix.Length..].ToLowerInvariant();
            if (key.EndsWith("-bin", StringComparison.Ordinal) || !key.All(IsMetadataKeyChar))
            {
                continue;
            }
            foreach (var value in values)
            {
                headers.Add(key, value ?? "");
            }
        }
        return headers;
    }

    /// <summary>gRPC's characters of a metadata key (after lowercasing).</summary>
    private static bool IsMetadataKeyChar(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.';

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

    protected override IDictionary<object, object> UserStateCore => _userState;

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("the gateway does not propagate calls");

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
