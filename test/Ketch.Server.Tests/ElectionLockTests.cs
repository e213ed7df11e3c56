using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Api.V3electionpb;
using Ketch.Api.V3lockpb;
using LockClient = Ketch.Api.V3lockpb.Lock.LockClient;

namespace Ketch.Server.Tests;

/// <summary>etcd's v3election and v3lock services: the recipes run inside the member.</summary>
public sealed class ElectionLockTests(SingleMemberFixture fixture) : IClassFixture<SingleMemberFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private TestMember M => fixture.Member;

    private Election.ElectionClient Elections => new(M.Channel);

    private LockClient Locks => new(M.Channel);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private async Task<long> GrantAsync(long ttl) => (await M.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl })).ID;

    private async Task<bool> ExistsAsync(ByteString key) => (await M.Kv.RangeAsync(new RangeRequest { Key = key })).Kvs.Count == 1;

    private async Task<RangeResponse> PrefixAsync(string prefix) =>
        await M.Kv.RangeAsync(new RangeRequest { Key = B(prefix), RangeEnd = B(prefix[..^1] + (char)(prefix[^1] + 1)) });

    private static async Task<LeaderResponse> NextAsync(IAsyncStreamReader<LeaderResponse> stream)
    {
        using var cts = new CancellationTokenSource(Wait);
        Assert.True(await stream.MoveNext(cts.Token), "the observe stream ended");
        return stream.Current;
    }

    [Fact]
    public async Task Campaign_proclaim_leader_observe_resign()
    {
        var lease = await GrantAsync(60);
        var noLeader = await Assert.ThrowsAsync<RpcException>(() => Elections.LeaderAsync(new LeaderRequest { Name = B("e1") }).ResponseAsync);
        Assert.Equal(StatusCode.Unknown, noLeader.StatusCode);
        Assert.Equal("election: no leader", noLeader.Status.Detail);

        var won = await Elections.CampaignAsync(new CampaignRequest { Name = B("e1"), Lease = lease, Value = B("a") });
        Assert.Equal("e1", won.Leader.Name.ToStringUtf8());
        Assert.Equal($"e1/{lease:x}", won.Leader.Key.ToStringUtf8());
        Assert.Equal(lease, won.Leader.Lease);
        Assert.Equal(won.Header.Revision, won.Leader.Rev);
        Assert.Equal(M.Server.MemberId, won.Header.MemberId);

        var leader = await Elections.LeaderAsync(new LeaderRequest { Name = B("e1") });
        Assert.Equal("a", leader.Kv.Value.ToStringUtf8());
        Assert.Equal(won.Leader.Key, leader.Kv.Key);
        Assert.Equal(won.Leader.Rev, leader.Kv.CreateRevision);
        Assert.Equal(lease, leader.Kv.Lease);

        using var observeCancel = new CancellationTokenSource();
        using var observe = Elections.Observe(new LeaderRequest { Name = B("e1") }, cancellationToken: observeCancel.Token);
        Assert.Equal("a", (await NextAsync(observe.ResponseStream)).Kv.Value.ToStringUtf8());

        var proclaimed = await Elections.ProclaimAsync(new ProclaimRequest { Leader = won.Leader, Value = B("b") });
        var seen = await NextAsync(observe.ResponseStream);
        Assert.Equal("b", seen.Kv.Value.ToStringUtf8());
        Assert.Equal(proclaimed.Header.Revision, seen.Header.Revision);
        Assert.Equal(proclaimed.Header.Revision, seen.Kv.ModRevision);
        Assert.Equal("b", (await Elections.LeaderAsync(new LeaderRequest { Name = B("e1") })).Kv.Value.ToStringUtf8());

        // Campaigning again with the same lease resumes the candidacy (and proclaims the new value).
        var again = await Elections.CampaignAsync(new CampaignRequest { Name = B("e1"), Lease = lease, Value = B("c") });
        Assert.Equal(won.Leader.Rev, again.Leader.Rev);
        Assert.Equal("c", (await NextAsync(observe.ResponseStream)).Kv.Value.ToStringUtf8());

        var resigned = await Elections.ResignAsync(new ResignRequest { Leader = won.Leader });
        Assert.True(resigned.Header.Revision > proclaimed.Header.Revision);
        Assert.False(await ExistsAsync(won.Leader.Key));
        var gone = await Assert.ThrowsAsync<RpcException>(() => Elections.LeaderAsync(new LeaderRequest { Name = B("e1") }).ResponseAsync);
        Assert.Equal("election: no leader", gone.Status.Detail);
        var notLeader = await Assert.ThrowsAsync<RpcException>(() => Elections.ProclaimAsync(new ProclaimRequest { Leader = won.Leader, Value = B("x") }).ResponseAsync);
        Assert.Equal(StatusCode.Unknown, notLeader.StatusCode);
        Assert.Equal("election: not leader", notLeader.Status.Detail);
        await Elections.ResignAsync(new ResignRequest { Leader = won.Leader }); // resigning twice is not an error
        var missing = await Assert.ThrowsAsync<RpcException>(() => Elections.ResignAsync(new ResignRequest()).ResponseAsync);
        Assert.Equal("\"leader\" field must be provided", missing.Status.Detail);

        // Observe waits for the next election.
        var next = await Elections.CampaignAsync(new CampaignRequest { Name = B("e1"), Lease = await GrantAsync(60), Value = B("d") });
        var observed = await NextAsync(observe.ResponseStream);
        Assert.Equal("d", observed.Kv.Value.ToStringUtf8());
        Assert.Equal(next.Leader.Key, observed.Kv.Key);
        observeCancel.Cancel();
    }

    [Fact]
    public async Task Second_campaigner_waits_until_the_first_resigns_or_its_lease_expires()
    {
        using var observe = Elections.Observe(new LeaderRequest { Name = B("e2") });
        var first = await Elections.CampaignAsync(new CampaignRequest { Name = B("e2"), Lease = await GrantAsync(60), Value = B("first") });
        Assert.Equal("first", (await NextAsync(observe.ResponseStream)).Kv.Value.ToStringUtf8());

        var secondLease = await GrantAsync(60);
        var second = Elections.CampaignAsync(new CampaignRequest { Name = B("e2"), Lease = secondLease, Value = B("second") }).ResponseAsync;
        await TestNet.WaitUntil(() => ExistsAsync(B($"e2/{secondLease:x}")), Wait, "the second candidate's key");
        Assert.False(second.IsCompleted, "the second candidate won while the first still leads");
        Assert.Equal("first", (await Elections.LeaderAsync(new LeaderRequest { Name = B("e2") })).Kv.Value.ToStringUtf8());

        await Elections.ResignAsync(new ResignRequest { Leader = first.Leader });
        var won = await second.WaitAsync(Wait);
        Assert.Equal($"e2/{secondLease:x}", won.Leader.Key.ToStringUtf8());
        Assert.True(won.Leader.Rev > first.Leader.Rev);
        Assert.Equal("second", (await NextAsync(observe.ResponseStream)).Kv.Value.ToStringUtf8());

        // A third candidate waits for the second, whose lease then expires (1 s, never kept alive).
        var shortLease = await GrantAsync(1);
        await Elections.ResignAsync(new ResignRequest { Leader = won.Leader });
        var shortLived = await Elections.CampaignAsync(new CampaignRequest { Name = B("e2"), Lease = shortLease, Value = B("short") });
        var thirdLease = await GrantAsync(60);
        var third = Elections.CampaignAsync(new CampaignRequest { Name = B("e2"), Lease = thirdLease, Value = B("third") }).ResponseAsync;
        var elected = await third.WaitAsync(Wait);
        Assert.False(await ExistsAsync(shortLived.Leader.Key));
        Assert.Equal($"e2/{thirdLease:x}", elected.Leader.Key.ToStringUtf8());
        Assert.Equal("third", (await Elections.LeaderAsync(new LeaderRequest { Name = B("e2") })).Kv.Value.ToStringUtf8());
    }

    [Fact]
    public async Task A_cancelled_campaign_withdraws_its_key()
    {
        await Elections.CampaignAsync(new CampaignRequest { Name = B("e3"), Lease = await GrantAsync(60), Value = B("a") });
        var lease = await GrantAsync(60);
        using var cts = new CancellationTokenSource();
        var waiting = Elections.CampaignAsync(new CampaignRequest { Name = B("e3"), Lease = lease, Value = B("b") }, cancellationToken: cts.Token).ResponseAsync;
        await TestNet.WaitUntil(() => ExistsAsync(B($"e3/{lease:x}")), Wait, "the waiting candidate's key");
        cts.Cancel();
        var e = await Assert.ThrowsAsync<RpcException>(() => waiting);
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await TestNet.WaitUntil(async () => !await ExistsAsync(B($"e3/{lease:x}")), Wait, "the withdrawn candidate's key to go");
    }

    [Fact]
    public async Task A_campaign_cancelled_while_its_put_is_in_flight_withdraws_only_a_key_it_created()
    {
        // The call is cancelled before the service even proposes its put: the proposal is made
        // anyway, so this is a cancellation arriving between the put being applied and the txn
        // returning, forced rather than raced for.
        var service = new Ketch.Server.Api.ElectionService(new Ketch.Server.Api.MemberContext(M.Server.Loop, M.Options));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var leader = await Elections.CampaignAsync(new CampaignRequest { Name = B("e4"), Lease = await GrantAsync(60), Value = B("a") });

        var lease = await GrantAsync(60);
        var e = await Assert.ThrowsAsync<RpcException>(() => service.Campaign(new CampaignRequest { Name = B("e4"), Lease = lease, Value = B("b") }, new CancelledCallContext(cts.Token)));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        // Applied in order after anything the campaign proposed: the put, and the withdrawal.
        var barrier = await M.Kv.PutAsync(new PutRequest { Key = B("e4-barrier") });
        Assert.False(await ExistsAsync(B($"e4/{lease:x}")), "the cancelled campaign's key stayed");
        var history = await M.Kv.RangeAsync(new RangeRequest { Key = B($"e4/{lease:x}"), Revision = barrier.Header.Revision - 2 });
        Assert.Equal("b", history.Kvs.Single().Value.ToStringUtf8()); // it was put, then withdrawn

        // Campaigning again on the leader's lease finds the key there: cancelled, it must not delete it.
        var again = await Assert.ThrowsAsync<RpcException>(() => service.Campaign(new CampaignRequest { Name = B("e4"), Lease = leader.Leader.Lease, Value = B("a") }, new CancelledCallContext(cts.Token)));
        Assert.Equal(StatusCode.Cancelled, again.StatusCode);
        await M.Kv.PutAsync(new PutRequest { Key = B("e4-barrier") });
        Assert.True(await ExistsAsync(leader.Leader.Key), "a cancelled re-campaign deleted the candidacy it did not create");
        await Elections.ResignAsync(new ResignRequest { Leader = leader.Leader });
    }

    /// <summary>A server call context with the given cancellation, for calling a service directly.</summary>
    private sealed class CancelledCallContext(CancellationToken ct) : ServerCallContext
    {
        protected override string MethodCore => "/v3electionpb.Election/Campaign";

        protected override string HostCore => "localhost";

        protected override string PeerCore => "test";

        protected override DateTime DeadlineCore => DateTime.MaxValue;

        protected override Metadata RequestHeadersCore { get; } = [];

        protected override CancellationToken CancellationTokenCore => ct;

        protected override Metadata ResponseTrailersCore { get; } = [];

        protected override Status StatusCore { get; set; }

        protected override WriteOptions? WriteOptionsCore { get; set; }

        protected override AuthContext AuthContextCore => new(null, []);

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }

    [Fact]
    public async Task Lock_excludes_a_second_contender_until_unlock()
    {
        var first = await Locks.LockAsync(new LockRequest { Name = B("k1"), Lease = await GrantAsync(60) });
        Assert.StartsWith("k1/", first.Key.ToStringUtf8(), StringComparison.Ordinal);
        Assert.True(await ExistsAsync(first.Key));

        var secondLease = await GrantAsync(60);
        var second = Locks.LockAsync(new LockRequest { Name = B("k1"), Lease = secondLease }).ResponseAsync;
        await TestNet.WaitUntil(() => ExistsAsync(B($"k1/{secondLease:x}")), Wait, "the second contender's key");
        Assert.False(second.IsCompleted, "two holders at once");

        var unlocked = await Locks.UnlockAsync(new UnlockRequest { Key = first.Key });
        var held = await second.WaitAsync(Wait);
        Assert.Equal($"k1/{secondLease:x}", held.Key.ToStringUtf8());
        Assert.True(held.Header.Revision >= unlocked.Header.Revision);
        Assert.False(await ExistsAsync(first.Key));
        var holders = await PrefixAsync("k1/");
        Assert.Equal([held.Key], holders.Kvs.Select(kv => kv.Key));
        await Locks.UnlockAsync(new UnlockRequest { Key = held.Key });
        Assert.Empty((await PrefixAsync("k1/")).Kvs);
    }

    [Fact]
    public async Task Lock_is_released_when_its_lease_is_revoked()
    {
        var firstLease = await GrantAsync(60);
        var first = await Locks.LockAsync(new LockRequest { Name = B("k2"), Lease = firstLease });
        var secondLease = await GrantAsync(60);
        var second = Locks.LockAsync(new LockRequest { Name = B("k2"), Lease = secondLease }).ResponseAsync;
        await TestNet.WaitUntil(() => ExistsAsync(B($"k2/{secondLease:x}")), Wait, "the second contender's key");
        Assert.False(second.IsCompleted, "two holders at once");

        await M.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = firstLease });
        var held = await second.WaitAsync(Wait);
        Assert.Equal($"k2/{secondLease:x}", held.Key.ToStringUtf8());
        Assert.False(await ExistsAsync(first.Key));
    }

    [Fact]
    public async Task Lock_errors_and_lease_less_locks()
    {
        // etcd's lock and election servers run over an in-process client whose errors reach gRPC
        // as plain errors: Unknown, with etcd's text (checked against etcd 3.4.23 with clientv3).
        var e = await Assert.ThrowsAsync<RpcException>(() => Locks.LockAsync(new LockRequest { Name = B("k3"), Lease = 0x7abcdef }).ResponseAsync);
        Assert.Equal((StatusCode.Unknown, "etcdserver: requested lease not found"), (e.StatusCode, e.Status.Detail));
        var emptyKey = await Assert.ThrowsAsync<RpcException>(() => Locks.UnlockAsync(new UnlockRequest()).ResponseAsync);
        Assert.Equal((StatusCode.Unknown, "etcdserver: key is not provided"), (emptyKey.StatusCode, emptyKey.Status.Detail));
        var campaign = await Assert.ThrowsAsync<RpcException>(() => Elections.CampaignAsync(new CampaignRequest { Name = B("k3e"), Lease = 0x7abcdef, Value = B("v") }).ResponseAsync);
        Assert.Equal((StatusCode.Unknown, "etcdserver: requested lease not found"), (campaign.StatusCode, campaign.Status.Detail));
        // A leader key that does not exist, with a lease that does not either: the compare fails first.
        var proclaim = await Assert.ThrowsAsync<RpcException>(() => Elections.ProclaimAsync(new ProclaimRequest
        {
            Leader = new LeaderKey { Name = B("k3e"), Key = B("k3e/1"), Rev = 1, Lease = 1 },
            Value = B("v"),
        }).ResponseAsync);
        Assert.Equal((StatusCode.Unknown, "election: not leader"), (proclaim.StatusCode, proclaim.Status.Detail));

        // Without a lease the server grants one (etcd's default session TTL, 60 s).
        var held = await Locks.LockAsync(new LockRequest { Name = B("k3") });
        var kv = (await M.Kv.RangeAsync(new RangeRequest { Key = held.Key })).Kvs.Single();
        Assert.NotEqual(0, kv.Lease);
        var ttl = await M.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = kv.Lease });
        Assert.Equal(60, ttl.GrantedTTL);
        await Locks.UnlockAsync(new UnlockRequest { Key = held.Key });
        await M.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = kv.Lease });
    }
}
