using System.Collections.Concurrent;
using Grpc.Net.Client;
using Ketch.Server.Member;
using LeaseClient = Ketch.Api.Etcdserverpb.Lease.LeaseClient;

namespace Ketch.Server.Api;

/// <summary>
/// A follower's line to the leader's client URL, for what only the leader can answer: lease
/// keep-alives and remaining TTLs (expiry runs on the leader's clock, as in etcd).
/// </summary>
internal sealed class LeaderClient(RaftLoop loop) : IDisposable
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
        var channel = _channels.GetOrAdd(leader, _ => GrpcChannel.ForAddress(info.ClientUrls[0], new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
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
