using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ketch.Server.Http;

/// <summary>
/// What etcd checks before its HTTP handlers (not before gRPC calls):
/// <list type="bullet">
/// <item>on a plain-text client URL, the request's host name must be in <c>--host-whitelist</c>
/// (unless it is <c>*</c> or empty): a web page on another site cannot reach a member on localhost
/// through DNS rebinding (CVE-2018-5702). Refused with 421 Misdirected Request, as etcd;</item>
/// <item>CORS headers for the origins in <c>--cors</c> (<c>*</c> by default, as etcd), and a
/// preflight <c>OPTIONS</c> answered with 200 and no body;</item>
/// <item>etcd 3.4's <c>/v3beta/</c> prefix served as <c>/v3/</c>;</item>
/// <item>a connection accepted on a <c>--listen-metrics-urls</c> URL reaches only <c>/metrics</c>,
/// <c>/health</c>, <c>/livez</c> and <c>/readyz</c>, with none of the checks above (etcd serves
/// those URLs from a separate mux).</item>
/// </list>
/// </summary>
internal sealed class HttpAccessControl(KetchServerOptions options)
{
    /// <summary>The connection item that marks a connection accepted on a metrics URL.</summary>
    public const string MetricsConnection = "ketch.metrics-listener";

    /// <summary>Marks a connection accepted on a <c>--listen-client-http-urls</c> URL: HTTP services only.</summary>
    public const string HttpOnlyConnection = "ketch.http-listener";

    /// <summary>Marks a connection accepted on a client URL while HTTP-only URLs exist: gRPC only.</summary>
    public const string GrpcOnlyConnection = "ketch.grpc-listener";

    private readonly HashSet<string>? _cors = AllowList(options.CorsOrigins);
    private readonly HashSet<string>? _hosts = AllowList(options.HostWhitelist);
    private readonly ILogger _log = options.LoggerFactory.CreateLogger("ketch.http");
    private readonly bool _metricsListeners = options.ListenMetricsUrls.Count > 0;

    /// <summary>Null when every value is allowed (empty or containing <c>*</c>).</summary>
    private static HashSet<string>? AllowList(IReadOnlyList<string> values) =>
        values.Count == 0 || values.Contains("*") ? null : new HashSet<string>(values, StringComparer.Ordinal);

    public Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        if (_metricsListeners && http.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(MetricsConnection) == true)
        {
            if (http.Request.Path.Value is "/metrics" or "/health" or "/livez" or "/readyz")
            {
                return next(http);
            }
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return http.Response.WriteAsync("404 page not found\n");
        }
        var items = http.Features.Get<IConnectionItemsFeature>()?.Items;
        var grpc = http.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
        if (items is not null && (grpc ? items.ContainsKey(HttpOnlyConnection) : items.ContainsKey(GrpcOnlyConnection)))
        {
            // etcd 3.5 with --listen-client-http-urls: those URLs serve HTTP only, the client URLs gRPC only.
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return http.Response.WriteAsync("404 page not found\n");
        }
        if (grpc)
        {
            return next(http);
        }
        if (!http.Request.IsHttps && _hosts is not null)
        {
            var host = http.Request.Host.Host.Trim('[', ']');
            if (!_hosts.Contains(host))
            {
                _log.LogWarning("rejecting an HTTP request for host {Host} (not in --host-whitelist), to prevent DNS rebinding", host);
                http.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
                http.Response.ContentType = "text/plain; charset=utf-8";
                return http.Response.WriteAsync(
                    $"ketch received your request, but the host name \"{host}\" is not accepted on a plain-text client URL.\n" +
                    "Add it to --host-whitelist, or serve clients over TLS (any host name is accepted on https URLs).\n");
            }
        }
        if (_cors is null)
        {
            AddCorsHeaders(http.Response, "*");
        }
        else if (http.Request.Headers.Origin.ToString() is { Length: > 0 } origin && _cors.Contains(origin))
        {
            AddCorsHeaders(http.Response, origin);
        }
        if (HttpMethods.IsOptions(http.Request.Method))
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
            return Task.CompletedTask;
        }
        if (http.Request.Path.StartsWithSegments("/v3beta", StringComparison.Ordinal, out var rest))
        {
            http.Request.Path = new PathString("/v3").Add(rest);
        }
        return next(http);
    }

    private static void AddCorsHeaders(HttpResponse response, string origin)
    {
        response.Headers.AccessControlAllowMethods = "POST, GET, OPTIONS, PUT, DELETE";
        response.Headers.AccessControlAllowOrigin = origin;
        response.Headers.AccessControlAllowHeaders = "accept, content-type, authorization";
    }
}
