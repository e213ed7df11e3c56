using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Ketch.Server.Member;
using LeaseClient = Ketch.Api.Etcdserverpb.Lease.LeaseClient;

namespace Ketch.Server.Api;

/// <summary>
/// A follower's line to the leader's client URL, for what only the leader can answer: lease
/// keep-alives and remaining TTLs (expiry runs on the leader's clock, as in etcd). To an
/// <c>https://</c> client URL it dials with this member's client certificate, verifying the
/// leader against the trusted CA (<paramref name="tls"/>; null: the system's CAs).
/// </summary>
/// <param name="loop">The member's Raft loop: who leads, and the membership's client URLs.</param>
/// <param name="options">The request timeout: how long a forwarded call keeps trying (through a
/// leader change) before it fails with etcd's "request timed out"; the heartbeat between tries.</param>
/// <param name="tls">The member's client TLS for <c>https://</c> client URLs.</param>
internal sealed class LeaderClient(RaftLoop loop, KetchServerOptions options, Tls.TlsCredentials? tls = null) : IDisposable
{
    private readonly ConcurrentDictionary<ulong, GrpcChannel> _channels = new();

    /// <summary>
    /// Calls the leader's Lease service as etcd's follower does for renewals and TTLs: it waits for
    /// a leader, and when the call cannot reach it (the leader died, or leadership moved on) it waits
    /// for the next one and tries again, until the request timeout: "no leader" if none was known
    /// by then, else "request timed out". Answers from the leader, errors included, are returned
    /// as they are. Null when this member leads, which then answers itself.
    /// </summary>
    public async Task<T?> CallLeaseAsync<T>(Func<LeaseClient, CancellationToken, Task<T>> call, CancellationToken ct)
        where T : class
    {
        using var deadline = Deadline(ct);
        while (true)
        {
            try
            {
                if (await LeaseOfLeaderAsync(deadline.Token).ConfigureAwait(false) is not { } lease)
                {
                    return null;
                }
                return await call(lease, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && IsUnreachable(e, deadline.Token))
            {
                await RetryDelayAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && deadline.IsCancellationRequested && IsCancellation(e))
            {
                throw EtcdErrors.Timeout;
            }
        }
    }

    /// <summary>The leader's Lease client once a leader is known (waiting for one until
    /// <paramref name="ct"/>, then etcd's "no leader"); null when this member leads.</summary>
    private async Task<LeaseClient?> LeaseOfLeaderAsync(CancellationToken ct)
    {
        try
        {
            await loop.WaitForLeaderAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw EtcdErrors.NoLeader;
        }
        return loop.IsLeader ? null : Lease() ?? throw EtcdErrors.NoLeader;
    }

    /// <summary>Whether a failed call to the leader is worth trying again with the next leader:
    /// it never reached a leader (refused, reset, "no leader", "leader changed") and time is left.</summary>
    private static bool IsUnreachable(Exception e, CancellationToken deadline) => !deadline.IsCancellationRequested && e switch
    {
        // Internal: a stream reset under the call (the leader's process died); Unknown is a real
        // answer from the leader and goes back to the client.
        RpcException r => r.StatusCode is StatusCode.Unavailable or StatusCode.Internal,
        HttpRequestException or IOException => true,
        _ => false,
    };

    /// <summary>A heartbeat's pause before the next try (a dead leader is only replaced after an
    /// election timeout); at the deadline, etcd's "request timed out".</summary>
    private async Task RetryDelayAsync(CancellationToken deadline)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(10, options.HeartbeatIntervalMs)), deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw EtcdErrors.Timeout;
        }
    }

    /// <summary>The caller's token, cancelled also at the request timeout.</summary>
    private CancellationTokenSource Deadline(CancellationToken ct)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.EffectiveRequestTimeout);
        return deadline;
    }

    /// <summary>A call ended by its token (the deadline), as gRPC or .NET reports it.</summary>
    private static bool IsCancellation(Exception e) =>
        e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled or StatusCode.DeadlineExceeded };

    /// <summary>The leader's Lease client; null when no leader or its client URL is unknown.</summary>
    public LeaseClient? Lease() => Channel() is { } c ? new LeaseClient(c) : null;

    /// <summary>The leader's Cluster client; null when no leader or its client URL is unknown.</summary>
    public Ketch.Api.Etcdserverpb.Cluster.ClusterClient? Cluster() =>
        Channel() is { } c ? new Ketch.Api.Etcdserverpb.Cluster.ClusterClient(c) : null;

    private GrpcChannel? Channel()
    {
        var leader = loop.Leader;
        if (leader == 0 || leader == loop.MemberId)
        {
            return null;
        }
        var info = loop.Membership.Get(leader);
        if (info is null || info.ClientUrls.Count == 0)
        {
            return null;
        }
        var url = info.ClientUrls[0];
        var channel = _channels.GetOrAdd(leader, _ => GrpcChannel.ForAddress(url, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                SslOptions = Tls.TlsCredentials.ClientOptions(tls, host: null, perConnection: false), // the handler names the URL's host
            },
        }));
        return channel;
    }

    public void Dispose()
    {
        foreach (var c in _channels.Values)
        {
            c.Dispose();
        }
        _channels.Clear();
    }
}
