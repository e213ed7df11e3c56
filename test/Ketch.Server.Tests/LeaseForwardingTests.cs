using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>
/// A follower answers lease keep-alives and remaining TTLs through the leader (expiry runs on the
/// leader's clock). When the leader dies, the follower waits for the next one and asks it, as etcd's
/// does, instead of failing the client at once.
/// </summary>
public sealed class LeaseForwardingTests
{
    [Fact]
    public async Task A_follower_renews_and_reports_a_lease_across_the_death_of_the_leader()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.LeaderAsync();
        var follower = c.Members.First(m => m != leader);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // a hang fails, not stalls, the test
        var grant = await follower.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 });
        using var keepAlive = follower.Lease.LeaseKeepAlive(cancellationToken: deadline.Token);
        await keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = grant.ID });
        Assert.True(await keepAlive.ResponseStream.MoveNext(deadline.Token));
        Assert.Equal(60, keepAlive.ResponseStream.Current.TTL);

        await leader.StopAsync();

        // The follower still takes the dead leader for the leader until an election timeout passes.
        var ttl = await follower.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID }, cancellationToken: deadline.Token);
        Assert.Equal(grant.ID, ttl.ID);
        Assert.InRange(ttl.TTL, 50, 61);
        await keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = grant.ID });
        Assert.True(await keepAlive.ResponseStream.MoveNext(deadline.Token));
        Assert.Equal(grant.ID, keepAlive.ResponseStream.Current.ID);
        Assert.Equal(60, keepAlive.ResponseStream.Current.TTL);
        Assert.NotEqual(leader.Server.MemberId, follower.Server.Leader);
    }
}
