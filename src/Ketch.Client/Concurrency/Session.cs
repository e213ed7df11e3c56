namespace Ketch.Client.Concurrency;

/// <summary>A lease kept alive in the background: the liveness of a lock holder or election candidate
/// (etcd's <c>concurrency.Session</c>). Keys written with <see cref="LeaseId"/> disappear when the session
/// ends or is lost.</summary>
public sealed class Session : IAsyncDisposable
{
    private readonly LeaseKeepAlive _keepAlive;

    private Session(KetchClient client, long leaseId, long ttlSeconds, LeaseKeepAlive keepAlive)
    {
        Client = client;
        LeaseId = leaseId;
        TtlSeconds = ttlSeconds;
        _keepAlive = keepAlive;
    }

    /// <summary>The client the session uses.</summary>
    public KetchClient Client { get; }

    /// <summary>The session's lease.</summary>
    public long LeaseId { get; }

    /// <summary>The TTL the lease was granted with.</summary>
    public long TtlSeconds { get; }

    /// <summary>Canceled when the lease is lost (expired, revoked, or unreachable for a whole TTL).</summary>
    public CancellationToken Done => _keepAlive.LostToken;

    /// <summary>Completes with the reason when the lease is lost.</summary>
    public Task<string> Lost => _keepAlive.Lost;

    /// <summary>Grants a lease and starts keeping it alive.</summary>
    /// <param name="client">The client.</param>
    /// <param name="ttlSeconds">The lease TTL (etcd's default is 60 s).</param>
    /// <param name="cancellationToken">Cancels the grant.</param>
    /// <returns>The session.</returns>
    public static async Task<Session> CreateAsync(KetchClient client, long ttlSeconds = 60, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var grant = await client.Lease.GrantAsync(ttlSeconds, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new Session(client, grant.ID, grant.TTL, client.Lease.KeepAlive(grant.ID, grant.TTL));
    }

    /// <summary>Stops the keep-alive and revokes the lease, deleting every key attached to it.</summary>
    /// <param name="cancellationToken">Cancels the revoke.</param>
    /// <returns>A task.</returns>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        await _keepAlive.DisposeAsync().ConfigureAwait(false);
        await Client.Lease.RevokeAsync(LeaseId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the keep-alive and revokes the lease, ignoring errors (the lease then expires by itself).</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await CloseAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Grpc.Core.RpcException or OperationCanceledException)
        {
            // Best effort: the lease expires after its TTL anyway.
        }
    }
}
