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

    [Fact]
    public async Task A_keep_alive_on_the_leader_finds_a_lease_granted_through_a_follower_before_the_leader_applied_it()
    {
        // Found by a chaos run (23 in 67,174 grant-then-keep-alive pairs): a follower can apply a
        // commit before its leader does, and a keep-alive on the leader then answered TTL 0.
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.LeaderAsync();
        var follower = c.Members.First(m => m != leader);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var released = new ManualResetEventSlim();
        var held = 0;
        leader.Server.Loop.BeforeApplyForTests = e =>
        {
            // Hold the leader's apply of the grant (its followers already have the commit) until
            // the keep-alive below is under way.
            if (Apply.RaftRequest.TryDecode(e.Data, out var r) && r.Kind == Apply.RaftRequestKind.LeaseGrant && Interlocked.Exchange(ref held, 1) == 0)
            {
                released.Wait(TimeSpan.FromSeconds(10));
            }
        };
        var grant = await follower.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, cancellationToken: deadline.Token);
        // The leader reaches its apply of the grant (it may get there after the follower answered,
        // when its loop is slow to run: CI at b1b9ee8 saw that) and is held there, unapplied.
        await TestNet.WaitUntil(() => Volatile.Read(ref held) == 1, TimeSpan.FromSeconds(10), "the leader to reach its apply of the grant");
        using var keepAlive = leader.Lease.LeaseKeepAlive(cancellationToken: deadline.Token);
        await keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = grant.ID });
        var answer = keepAlive.ResponseStream.MoveNext(deadline.Token);
        // Release the leader's apply once the renewal has had 300 ms to arrive (the wrong answer
        // comes at once, and ends the wait). This bounds the wait, it does not decide the outcome:
        // on a machine so slow that the renewal arrives after the release, the lease is applied by
        // then and the test passes with or without the fix, never fails without cause.
        await Task.WhenAny(answer, Task.Delay(TimeSpan.FromMilliseconds(300), deadline.Token));
        released.Set();
        Assert.True(await answer);
        Assert.Equal((grant.ID, 60L), (keepAlive.ResponseStream.Current.ID, keepAlive.ResponseStream.Current.TTL));
    }
}
