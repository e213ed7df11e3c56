using System.Net.Http;
using Grpc.Core;
using Grpc.Net.Client;

namespace Ketch.Bench;

/// <summary>
/// The benchmark's connections: one <see cref="GrpcChannel"/> per <c>--conns</c>, each with its
/// own <see cref="SocketsHttpHandler"/> so that channels never share a TCP connection; client i
/// uses channel i mod conns (HTTP/2 multiplexes its calls), channel j talks to endpoint j mod n.
/// </summary>
internal sealed class ChannelPool : IDisposable
{
    private readonly GrpcChannel[] _channels;

    /// <summary>No endpoints (the fsync probe) means no channels.</summary>
    /// <param name="endpoints">The members' client URLs.</param>
    /// <param name="conns">How many connections.</param>
    /// <param name="tls">TLS for https endpoints: files are read here (null: the system's CAs, no client certificate).</param>
    /// <exception cref="ArgumentException">A TLS file is missing or does not load.</exception>
    public ChannelPool(IReadOnlyList<Uri> endpoints, int conns, Ketch.Client.KetchTlsOptions? tls = null)
    {
        var ssl = tls?.Load();
        _channels = new GrpcChannel[endpoints.Count == 0 ? 0 : conns];
        for (var i = 0; i < _channels.Length; i++)
        {
            var handler = new SocketsHttpHandler
            {
                // Past the server's concurrent-stream limit (Kestrel's default is 100) open a
                // second connection rather than queue calls behind the first.
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                // Large windows: watch streams carry many events, puts carry large values.
                InitialHttp2StreamWindowSize = 4 << 20,
            };
            if (ssl is not null)
            {
                // A copy per handler: each handler fills in its target host.
                handler.SslOptions = new()
                {
                    ClientCertificateContext = ssl.ClientCertificateContext,
                    CertificateRevocationCheckMode = ssl.CertificateRevocationCheckMode,
                    RemoteCertificateValidationCallback = ssl.RemoteCertificateValidationCallback,
                };
            }
            var endpoint = endpoints[i % endpoints.Count];
            _channels[i] = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
            {
                HttpHandler = handler,
                DisposeHttpClient = true,
                MaxReceiveMessageSize = 64 << 20,
                MaxSendMessageSize = 64 << 20,
                Credentials = endpoint.Scheme == Uri.UriSchemeHttps ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure,
            });
        }
    }

    public int Count => _channels.Length;

    public CallInvoker InvokerFor(int client) => _channels.Length == 0
        ? throw new InvalidOperationException("this run has no endpoints")
        : _channels[client % _channels.Length].CreateCallInvoker();

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }
}
