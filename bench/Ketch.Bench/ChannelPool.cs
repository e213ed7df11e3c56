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
    public ChannelPool(IReadOnlyList<Uri> endpoints, int conns)
    {
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
            _channels[i] = GrpcChannel.ForAddress(endpoints[i % endpoints.Count], new GrpcChannelOptions
            {
                HttpHandler = handler,
                DisposeHttpClient = true,
                MaxReceiveMessageSize = 64 << 20,
                MaxSendMessageSize = 64 << 20,
                Credentials = ChannelCredentials.Insecure,
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
