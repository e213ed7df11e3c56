using Ketch.Api.Etcdserverpb;
using LeaseService = Ketch.Api.Etcdserverpb.Lease;

namespace Ketch.Client;

/// <summary>The Lease service: grant, revoke, time-to-live, list and keep-alive.</summary>
public sealed class LeaseClient
{
    private readonly Connection _conn;

    internal LeaseClient(Connection conn) => _conn = conn;

    /// <summary>Creates a lease.</summary>
    /// <param name="ttlSeconds">Time to live in seconds.</param>
    /// <param name="id">The id to use; 0 lets the server choose.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response with the lease id and TTL.</returns>
    public Task<LeaseGrantResponse> GrantAsync(long ttlSeconds, long id = 0, CancellationToken cancellationToken = default)
    {
        var request = new LeaseGrantRequest { TTL = ttlSeconds, ID = id };
        return _conn.UnaryAsync((ci, o) => new LeaseService.LeaseClient(ci).LeaseGrantAsync(request, o),
            id != 0 ? Retry.Safe : Retry.IfNotSent, cancellationToken);
    }

    /// <summary>Revokes a lease and deletes its keys. Idempotent, hence retried.</summary>
    /// <param name="id">The lease id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<LeaseRevokeResponse> RevokeAsync(long id, CancellationToken cancellationToken = default)
    {
        var request = new LeaseRevokeRequest { ID = id };
        return _conn.UnaryAsync((ci, o) => new LeaseService.LeaseClient(ci).LeaseRevokeAsync(request, o), Retry.Safe, cancellationToken);
    }

    /// <summary>The remaining and granted TTL of a lease.</summary>
    /// <param name="id">The lease id.</param>
    /// <param name="keys">Also list the keys attached to it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response; TTL is -1 when the lease does not exist.</returns>
    public Task<LeaseTimeToLiveResponse> TimeToLiveAsync(long id, bool keys = false, CancellationToken cancellationToken = default)
    {
        var request = new LeaseTimeToLiveRequest { ID = id, Keys = keys };
        return _conn.UnaryAsync((ci, o) => new LeaseService.LeaseClient(ci).LeaseTimeToLiveAsync(request, o), Retry.Safe, cancellationToken);
    }

    /// <summary>Every lease.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<LeaseLeasesResponse> LeasesAsync(CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => new LeaseService.LeaseClient(ci).LeaseLeasesAsync(new LeaseLeasesRequest(), o), Retry.Safe, cancellationToken);

    /// <summary>Renews a lease once.</summary>
    /// <param name="id">The lease id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response; TTL is 0 or less if the lease is gone.</returns>
    public async Task<LeaseKeepAliveResponse> KeepAliveOnceAsync(long id, CancellationToken cancellationToken = default)
    {
        var deadline = _conn.NewDeadline();
        for (var attempt = 0; ; attempt++)
        {
            var index = _conn.CurrentIndex;
            try
            {
                using var call = new LeaseService.LeaseClient(_conn.Invoker(index)).LeaseKeepAlive(_conn.CallOptions(cancellationToken, deadline));
                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }, cancellationToken).ConfigureAwait(false);
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Unavailable, "keep-alive stream closed"));
                }
                return call.ResponseStream.Current;
            }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.Unavailable && attempt < _conn.Options.MaxRetries)
            {
                _conn.MarkFailed(index);
                await _conn.BackoffAsync(attempt, deadline, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Starts renewing a lease in the background until disposed or lost.</summary>
    /// <param name="id">The lease id.</param>
    /// <param name="ttlSecondsHint">The TTL the lease was granted with, if known: bounds how long renewals may
    /// fail before the lease is reported lost (5 s when 0).</param>
    /// <returns>The running keep-alive.</returns>
    public LeaseKeepAlive KeepAlive(long id, long ttlSecondsHint = 0) => new(_conn, id, ttlSecondsHint);
}
