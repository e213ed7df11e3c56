using System.Net.Http;
using Grpc.Core;
using Grpc.Net.Client;

namespace Ketch.Client;

/// <summary>Whether a request may be sent again after <c>Unavailable</c>.</summary>
internal enum Retry
{
    /// <summary>Reads and idempotent requests: retried on any <c>Unavailable</c>.</summary>
    Safe,

    /// <summary>Writes: retried only when the request provably never reached a server
    /// (connection refused, or refused by the require-leader check before processing).</summary>
    IfNotSent,
}

/// <summary>The channels to every endpoint, the current one, and the retry loop shared by all unary calls.
/// Failover is sticky: after <c>Unavailable</c> the next endpoint becomes current for everyone
/// (etcd clientv3 behaves the same way with its round-robin balancer skipping failed endpoints).</summary>
internal sealed class Connection : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private int _current;

    public Connection(KetchClientOptions options)
    {
        Options = options;
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("at least one endpoint is required", nameof(options));
        }
        // As etcd's client: with TLS settings, "host:port" means TLS; "http://" stays plaintext.
        Endpoints = [.. options.Endpoints.Select(e => options.Tls is not null && !e.Contains("://", StringComparison.Ordinal)
            ? Endpoint.Normalize("https://" + e.Trim())
            : Endpoint.Normalize(e))];
        var ssl = options.Tls?.Load();
        _channels = [.. Endpoints.Select(uri => GrpcChannel.ForAddress(uri, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                // A copy per handler: the handler fills in the target host.
                SslOptions = ssl is null ? new() : new()
                {
                    ClientCertificateContext = ssl.ClientCertificateContext,
                    CertificateRevocationCheckMode = ssl.CertificateRevocationCheckMode,
                    RemoteCertificateValidationCallback = ssl.RemoteCertificateValidationCallback,
                },
                ConnectTimeout = options.DialTimeout,
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(10),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            },
            // etcd's client accepts responses up to 2 GiB (MaxCallRecvMsgSize = math.MaxInt32).
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            DisposeHttpClient = true,
        }))];
    }

    public KetchClientOptions Options { get; }

    public IReadOnlyList<Uri> Endpoints { get; }

    public int CurrentIndex => Volatile.Read(ref _current);

    public CallInvoker Invoker(int index) => _channels[index].CreateCallInvoker();

    /// <summary>Moves on from a failed endpoint unless another caller already did.</summary>
    public void MarkFailed(int index) =>
        Interlocked.CompareExchange(ref _current, (index + 1) % _channels.Length, index);

    public DateTime? NewDeadline() =>
        Options.RequestTimeout is { } t ? Options.TimeProvider.GetUtcNow().UtcDateTime + t : null;

    /// <summary>The headers (require-leader, auth token), deadline and cancellation of one call.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="deadline">The call's deadline, if any.</param>
    /// <param name="requireLeader">Ask for a leader even if the client's options do not.</param>
    public CallOptions CallOptions(CancellationToken cancellationToken, DateTime? deadline, bool requireLeader = false)
    {
        Metadata? headers = null;
        if (Options.RequireLeader || requireLeader)
        {
            // etcd's rpctypes.MetadataRequireLeaderKey / MetadataHasLeader.
            headers = new Metadata { { "hasleader", "true" } };
        }
        if (Auth.Token is { } token)
        {
            // etcd's rpctypes.TokenFieldNameGRPC.
            headers ??= [];
            headers.Add("token", token);
        }
        return new CallOptions(headers, deadline, cancellationToken);
    }

    /// <summary>The auth token every call carries, and how to get a new one.</summary>
    public AuthSession Auth { get; } = new();

    public async Task<T> UnaryAsync<T>(
        Func<CallInvoker, CallOptions, AsyncUnaryCall<T>> call, Retry retry, CancellationToken cancellationToken)
    {
        var deadline = NewDeadline();
        await Auth.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var reauthenticated = false;
        for (var attempt = 0; ; attempt++)
        {
            var index = CurrentIndex;
            try
            {
                using var c = call(Invoker(index), CallOptions(cancellationToken, deadline));
                return await c.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex) when (!reauthenticated && AuthSession.ShouldRefresh(ex) && Auth.CanRefresh)
            {
                // As clientv3: a token the member does not know (restart, expiry) is replaced once.
                reauthenticated = true;
                await Auth.RefreshAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable || (ex.StatusCode == StatusCode.Internal && NeverSent(ex)))
            {
                MarkFailed(index);
                if (attempt >= Options.MaxRetries || !(retry == Retry.Safe || NeverSent(ex)))
                {
                    throw;
                }
                await BackoffAsync(attempt, deadline, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits before a retry; throws <c>DeadlineExceeded</c> if the request's deadline passes first.</summary>
    public async Task BackoffAsync(int attempt, DateTime? deadline, CancellationToken cancellationToken)
    {
        var delay = Backoff(attempt);
        if (deadline is { } d)
        {
            var left = d - Options.TimeProvider.GetUtcNow().UtcDateTime;
            if (left <= delay)
            {
                throw new RpcException(new Status(StatusCode.DeadlineExceeded, "context deadline exceeded"));
            }
        }
        await Task.Delay(delay, Options.TimeProvider, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Exponential back-off with jitter in [50%, 100%] of the step.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var step = Options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 16));
        step = Math.Min(step, Options.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(step * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    /// <summary>True when the request cannot have been applied: the connection was never made, or the
    /// member refused it before processing because it has no leader (with <c>hasleader=true</c>).</summary>
    public static bool NeverSent(RpcException ex)
    {
        if (ex.Status.Detail == "etcdserver: no leader")
        {
            return true;
        }
        for (var e = ex.Status.DebugException; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError }
                || e is System.Security.Authentication.AuthenticationException)
            {
                return true;
            }
            if (e is System.Net.Sockets.SocketException)
            {
                return true;
            }
            // The HTTP/2 connection never came up (no SETTINGS from the server), so no request went
            // out on it: what a member that refuses our client certificate looks like under TLS 1.3,
            // where the refusal arrives after the handshake, at the first read. SocketsHttpHandler
            // gives no error code for it (an IOException or an HttpRequestException, whose error is
            // Unknown or InvalidResponse depending on when the close arrives), only this text,
            // which the runtime does not localize.
            if (e is IOException or HttpRequestException && e.Message.StartsWith("An HTTP/2 connection could not be established", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    public void Dispose()
    {
        foreach (var c in _channels)
        {
            c.Dispose();
        }
    }
}
