using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Api;

/// <summary>
/// A follower's keep-alive stream to the leader, one per client keep-alive stream. When the leader
/// cannot be reached (it died, or leadership moved on), the renewal waits for the next leader and
/// tries again on a new stream until the request timeout, as etcd's follower does; the client's
/// stream carries on and sees nothing of it.
/// </summary>
internal sealed class KeepAliveForwarder(LeaderClient leader) : IDisposable
{
    private AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse>? _call;

    /// <summary>Renews <paramref name="id"/> through the leader; null when this member leads now
    /// (renew locally).</summary>
    public async Task<LeaseKeepAliveResponse?> RenewAsync(long id, CancellationToken ct)
    {
        using var deadline = leader.Deadline(ct);
        while (true)
        {
            try
            {
                if (_call is null)
                {
                    if (await leader.LeaseOfLeaderAsync(deadline.Token).ConfigureAwait(false) is not { } lease)
                    {
                        return null;
                    }
                    // The stream lives as long as the client's; each renewal has its own deadline.
                    _call = lease.LeaseKeepAlive(cancellationToken: ct);
                }
                await _call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }, deadline.Token).ConfigureAwait(false);
                if (!await _call.ResponseStream.MoveNext(deadline.Token).ConfigureAwait(false))
                {
                    throw EtcdErrors.LeaderChanged; // the leader ended our stream: try the next one
                }
                return _call.ResponseStream.Current;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && LeaderClient.IsUnreachable(e, deadline.Token))
            {
                Reset();
                await leader.RetryDelayAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && deadline.IsCancellationRequested && LeaderClient.IsCancellation(e))
            {
                Reset();
                throw EtcdErrors.Timeout;
            }
        }
    }

    private void Reset()
    {
        _call?.Dispose();
        _call = null;
    }

    public void Dispose() => Reset();
}
