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

    /// <summary>Renews <paramref name="id"/> through the leader, with <see cref="LeaderClient.CallLeaseAsync"/>'s
    /// retries; null when this member leads now (renew locally).</summary>
    public Task<LeaseKeepAliveResponse?> RenewAsync(long id, CancellationToken ct) =>
        leader.CallLeaseAsync<LeaseKeepAliveResponse>(async (lease, attempt) =>
        {
            try
            {
                // The stream lives as long as the client's; each renewal has the attempt's deadline.
                _call ??= lease.LeaseKeepAlive(cancellationToken: ct);
                await _call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }, attempt).ConfigureAwait(false);
                if (!await _call.ResponseStream.MoveNext(attempt).ConfigureAwait(false))
                {
                    throw EtcdErrors.LeaderChanged; // the leader ended our stream: try the next one
                }
                return _call.ResponseStream.Current;
            }
            catch
            {
                Reset(); // the next try opens a stream to whoever leads then
                throw;
            }
        }, ct);

    private void Reset()
    {
        _call?.Dispose();
        _call = null;
    }

    public void Dispose() => Reset();
}
