using System.Collections.Concurrent;
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
internal sealed class LeaderClient(RaftLoop loop, Tls.TlsCredentials? tls = null) : IDisposable
{
    private readonly ConcurrentDictionary<ulong, GrpcChannel> _channels = new();

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
