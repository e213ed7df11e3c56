using System.Threading.Channels;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using LeaseService = Ketch.Api.Etcdserverpb.Lease;

namespace Ketch.Client;

/// <summary>Keeps one lease alive in the background, renewing it every third of its TTL over a keep-alive
/// stream and failing over to the next endpoint on errors. It reports loss through <see cref="Lost"/> and
/// <see cref="LostToken"/>: the server said the lease is gone (expired or revoked), or no renewal succeeded
/// for a whole TTL (the lease must then be presumed expired). Dispose to stop renewing (the lease is not revoked).</summary>
public sealed class LeaseKeepAlive : IAsyncDisposable
{
    private readonly Connection _conn;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly TaskCompletionSource<string> _lostReason = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<LeaseKeepAliveResponse> _responses =
        Channel.CreateBounded<LeaseKeepAliveResponse>(new BoundedChannelOptions(16) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly Task _loop;
    private long _ttl;

    internal LeaseKeepAlive(Connection conn, long leaseId, long ttlHintSeconds)
    {
        _conn = conn;
        LeaseId = leaseId;
        _ttl = ttlHintSeconds;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The lease being kept alive.</summary>
    public long LeaseId { get; }

    /// <summary>The TTL in seconds from the last successful renewal (0 before the first).</summary>
    public long Ttl => Interlocked.Read(ref _ttl);

    /// <summary>Completes with the reason when the lease is lost. Never completes while it is alive.</summary>
    public Task<string> Lost => _lostReason.Task;

    /// <summary>Canceled when the lease is lost.</summary>
    public CancellationToken LostToken => _lost.Token;

    /// <summary>Every renewal response (the newest 16 are kept if nobody reads); completes when the lease is
    /// lost or the keep-alive is disposed.</summary>
    public ChannelReader<LeaseKeepAliveResponse> Responses => _responses.Reader;

    private async Task RunAsync()
    {
        var time = _conn.Options.TimeProvider;
        var ct = _stop.Token;
        var ttl = Ttl > 0 ? Ttl : 5;
        var expires = time.GetUtcNow() + TimeSpan.FromSeconds(ttl);
        var lastError = "no renewal succeeded";
        var attempt = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var index = _conn.CurrentIndex;
                try
                {
                    using var call = new LeaseService.LeaseClient(_conn.Invoker(index)).LeaseKeepAlive(_conn.CallOptions(ct, null));
                    while (true)
                    {
                        await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = LeaseId }, ct).ConfigureAwait(false);
                        // A member that accepts the stream but never answers must not keep us past the TTL.
                        using var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                        readTimeout.CancelAfter(Max(TimeSpan.FromSeconds(1), expires - time.GetUtcNow()));
                        if (!await call.ResponseStream.MoveNext(readTimeout.Token).ConfigureAwait(false))
                        {
                            throw new RpcException(new Status(StatusCode.Unavailable, "keep-alive stream closed"));
                        }
                        var r = call.ResponseStream.Current;
                        if (r.TTL <= 0)
                        {
                            Lose("lease expired or revoked");
                            return;
                        }
                        attempt = 0;
                        Interlocked.Exchange(ref _ttl, r.TTL);
                        expires = time.GetUtcNow() + TimeSpan.FromSeconds(r.TTL);
                        _responses.Writer.TryWrite(r);
                        // etcd's clientv3 renews after a third of the TTL.
                        await Task.Delay(Max(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(r.TTL / 3.0)), time, ct)
                            .ConfigureAwait(false);
                    }
                }
                catch (RpcException ex) when (!ct.IsCancellationRequested)
                {
                    lastError = ex.Status.Detail;
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    lastError = "keep-alive response timed out";
                }
                catch (InvalidOperationException ex) when (!ct.IsCancellationRequested)
                {
                    lastError = ex.Message;
                }
                _conn.MarkFailed(index);
                if (time.GetUtcNow() >= expires)
                {
                    Lose($"no keep-alive succeeded within the TTL: {lastError}");
                    return;
                }
                await Task.Delay(_conn.Backoff(attempt++), time, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Disposed.
        }
        finally
        {
            _responses.Writer.TryComplete();
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private void Lose(string reason)
    {
        _lostReason.TrySetResult(reason);
        _lost.Cancel();
    }

    /// <summary>Stops renewing. The lease itself stays until it expires or is revoked.</summary>
    /// <returns>A task that completes when the background loop has ended.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected on stop.
        }
        _stop.Dispose();
    }
}
