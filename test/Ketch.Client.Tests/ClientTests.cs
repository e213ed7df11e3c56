using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Api.Mvccpb;
using Ketch.Testing;
using Xunit;

namespace Ketch.Client.Tests;

/// <summary>Client behaviour against one member. Abstract over the server: add a subclass per provider.</summary>
public abstract class ClientTests : IAsyncLifetime
{
    private ITestCluster? _cluster;

    protected abstract IClusterProvider Provider { get; }

    protected ITestCluster Cluster => _cluster!;

    protected KetchClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _cluster = await Provider.StartAsync(1);
        Client = new KetchClient(new KetchClientOptions { Endpoints = _cluster.Endpoints, RequestTimeout = TimeSpan.FromSeconds(10) });
    }

    public async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    private static string S(ByteString b) => b.ToStringUtf8();

    [Fact]
    public async Task Get_supports_every_range_option()
    {
        foreach (var (k, v) in new[] { ("a", "1"), ("b/1", "x"), ("b/2", "yy"), ("b/3", "z"), ("c", "3") })
        {
            await Client.Kv.PutAsync(k, v);
        }
        var all = await Client.Kv.GetAsync("b/", new GetOptions { Prefix = true });
        Assert.Equal(["b/1", "b/2", "b/3"], all.Kvs.Select(x => S(x.Key)));
        Assert.Equal(3, all.Count);

        var limited = await Client.Kv.GetAsync("b/", new GetOptions { Prefix = true, Limit = 2 });
        Assert.Equal(2, limited.Kvs.Count);
        Assert.True(limited.More);

        var desc = await Client.Kv.GetAsync("b/", new GetOptions { Prefix = true, SortOrder = RangeRequest.Types.SortOrder.Descend, SortTarget = RangeRequest.Types.SortTarget.Value });
        Assert.Equal(["z", "yy", "x"], desc.Kvs.Select(x => S(x.Value)));

        var fromKey = await Client.Kv.GetAsync("b/3", new GetOptions { FromKey = true });
        Assert.Equal(["b/3", "c"], fromKey.Kvs.Select(x => S(x.Key)));

        var range = await Client.Kv.GetAsync("a", new GetOptions { RangeEnd = ByteString.CopyFromUtf8("b/2") });
        Assert.Equal(["a", "b/1"], range.Kvs.Select(x => S(x.Key)));

        var keysOnly = await Client.Kv.GetAsync("a", new GetOptions { KeysOnly = true });
        Assert.True(keysOnly.Kvs[0].Value.IsEmpty);

        var countOnly = await Client.Kv.GetAsync("", new GetOptions { Prefix = true, CountOnly = true });
        Assert.Equal(5, countOnly.Count);
        Assert.Empty(countOnly.Kvs);

        var first = await Client.Kv.GetAsync("a");
        var rev = first.Kvs[0].ModRevision;
        await Client.Kv.PutAsync("a", "2");
        var old = await Client.Kv.GetAsync("a", new GetOptions { Revision = rev });
        Assert.Equal("1", S(old.Kvs[0].Value));


        var serializable = await Client.Kv.GetAsync("a", new GetOptions { Serializable = true });
        Assert.Equal("2", S(serializable.Kvs[0].Value));
    }

    [Fact]
    public async Task Put_and_delete_return_previous_values_and_compact_removes_history()
    {
        await Client.Kv.PutAsync("k", "v1");
        var put = await Client.Kv.PutAsync("k", "v2", new PutOptions { PrevKv = true });
        Assert.Equal("v1", S(put.PrevKv.Value));
        await Client.Kv.PutAsync("k2", "w");
        var del = await Client.Kv.DeleteAsync("k", new DeleteOptions { Prefix = true, PrevKv = true });
        Assert.Equal(2, del.Deleted);
        Assert.Equal(["v2", "w"], del.PrevKvs.Select(x => S(x.Value)));

        await Client.Kv.CompactAsync(del.Header.Revision, physical: true);
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.Kv.GetAsync("k", new GetOptions { Revision = 2 }));
        Assert.Equal(StatusCode.OutOfRange, ex.StatusCode);
        Assert.Equal("etcdserver: mvcc: required revision has been compacted", ex.Status.Detail);
    }

    [Fact]
    public async Task Txn_builder_takes_then_or_else()
    {
        await Client.Kv.PutAsync("t", "1");
        var ok = await Client.Kv.Txn()
            .If(Cmp.Value("t", "=", "1"), Cmp.Version("t", ">", 0))
            .Then(Op.Put("t", "2"), Op.Get("t"))
            .Else(Op.Delete("t"))
            .CommitAsync();
        Assert.True(ok.Succeeded);
        Assert.Equal("2", S(ok.Responses[1].ResponseRange.Kvs[0].Value));

        var fail = await Client.Kv.Txn().If(Cmp.Value("t", "=", "1")).Then(Op.Delete("t")).Else(Op.Get("t")).CommitAsync();
        Assert.False(fail.Succeeded);
        Assert.Equal("2", S(fail.Responses[0].ResponseRange.Kvs[0].Value));

        Assert.Throws<InvalidOperationException>(() => Client.Kv.Txn().Then(Op.Get("t")).If(Cmp.Value("t", "=", "1")));
    }

    [Fact]
    public async Task Watch_delivers_puts_and_deletes_with_prev_kv_and_progress()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var watch = Client.Watch.Watch("w/", new WatchOptions { Prefix = true, PrevKv = true });
        await using var e = watch.GetAsyncEnumerator(cts.Token);
        Assert.True(await e.MoveNextAsync());
        Assert.True(e.Current.Created);

        await Client.Kv.PutAsync("w/a", "1");
        await Client.Kv.PutAsync("w/a", "2");
        await Client.Kv.DeleteAsync("w/a");
        var events = new List<Event>();
        while (events.Count < 3 && await e.MoveNextAsync())
        {
            events.AddRange(e.Current.Events);
        }
        Assert.Equal([Event.Types.EventType.Put, Event.Types.EventType.Put, Event.Types.EventType.Delete], events.Select(x => x.Type));
        Assert.Equal("1", S(events[1].PrevKv.Value));
        Assert.Equal("2", S(events[2].PrevKv.Value));

        await watch.RequestProgressAsync(cts.Token);
        Assert.True(await e.MoveNextAsync());
        Assert.Empty(e.Current.Events);
        Assert.Equal(events[2].Kv.ModRevision, e.Current.Header.Revision);
    }

    [Fact]
    public async Task Watch_on_a_compacted_revision_throws_with_the_compact_revision()
    {
        for (var i = 0; i < 5; i++)
        {
            await Client.Kv.PutAsync("c", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        var head = await Client.Kv.GetAsync("c");
        await Client.Kv.CompactAsync(head.Header.Revision);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var ex = await Assert.ThrowsAsync<WatchCompactedException>(async () =>
        {
            await foreach (var _ in Client.Watch.WatchAsync("c", new WatchOptions { StartRevision = 2 }, cts.Token))
            {
            }
        });
        Assert.Equal(head.Header.Revision, ex.CompactRevision);
        Assert.Equal(2, ex.RequestedRevision);
    }

    [Fact]
    public async Task Watch_resumes_after_the_member_restarts_without_missing_or_duplicating_events()
    {
        const int total = 60;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var watch = Client.Watch.Watch("r/", new WatchOptions { Prefix = true });
        var seen = new List<string>();
        var reader = Task.Run(async () =>
        {
            await foreach (var r in watch.WithCancellation(cts.Token))
            {
                seen.AddRange(r.Events.Select(x => S(x.Kv.Value)));
                if (seen.Count >= total)
                {
                    return;
                }
            }
        });
        // Wait until the watch is created before writing.
        while (watch.NextRevision == 0)
        {
            await Task.Delay(10, cts.Token);
        }
        for (var i = 0; i < total; i++)
        {
            if (i == total / 2)
            {
                await Cluster.RestartAsync(0);
            }
            while (true)
            {
                try
                {
                    await Client.Kv.PutAsync("r/k", i.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken: cts.Token);
                    break;
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                    // A write that failed during the restart may or may not have been applied: we only write
                    // the next value once this one is acknowledged.
                }
            }
        }
        await reader.WaitAsync(cts.Token);
        Assert.Equal(Enumerable.Range(0, total).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), seen.Distinct());
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.True(watch.Reconnects >= 1);
    }

    [Fact]
    public async Task Lease_grant_ttl_list_keepalive_and_loss_on_revoke()
    {
        var grant = await Client.Lease.GrantAsync(2);
        await Client.Kv.PutAsync("l", "v", new PutOptions { Lease = grant.ID });
        var ttl = await Client.Lease.TimeToLiveAsync(grant.ID, keys: true);
        Assert.Equal(2, ttl.GrantedTTL);
        Assert.Equal(["l"], ttl.Keys.Select(S));
        Assert.Contains((await Client.Lease.LeasesAsync()).Leases, l => l.ID == grant.ID);

        await using var ka = Client.Lease.KeepAlive(grant.ID, grant.TTL);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        // Four renewals at TTL/3 spans more than the 2 s TTL: the key must still be there.
        for (var i = 0; i < 4; i++)
        {
            var r = await ka.Responses.ReadAsync(cts.Token);
            Assert.Equal(grant.ID, r.ID);
        }
        Assert.Single((await Client.Kv.GetAsync("l")).Kvs);
        Assert.False(ka.Lost.IsCompleted);

        await Client.Lease.RevokeAsync(grant.ID);
        var reason = await ka.Lost.WaitAsync(cts.Token);
        Assert.Contains("expired or revoked", reason, StringComparison.Ordinal);
        Assert.True(ka.LostToken.IsCancellationRequested);
        Assert.Equal(-1, (await Client.Lease.TimeToLiveAsync(grant.ID)).TTL);
        Assert.Empty((await Client.Kv.GetAsync("l")).Kvs);
    }

    [Fact]
    public async Task Cluster_and_maintenance_describe_the_member()
    {
        var members = await Client.Cluster.MemberListAsync();
        var status = await Client.Maintenance.StatusAsync();
        Assert.Single(members.Members);
        Assert.Equal(members.Members[0].ID, status.Header.MemberId);
        Assert.Equal(status.Leader, status.Header.MemberId);
        Assert.Empty((await Client.Maintenance.AlarmListAsync()).Alarms);
        Assert.NotEqual(0u, (await Client.Maintenance.HashKvAsync()).Hash);
        await Client.Maintenance.DefragmentAsync();
        using var ms = new MemoryStream();
        var n = await Client.Maintenance.SnapshotAsync(ms);
        Assert.True(n > 0);
        Assert.Equal(n, ms.Length);
    }

    [Fact]
    public async Task Mutex_excludes_and_hands_over_with_increasing_fencing_tokens()
    {
        await using var s1 = await Concurrency.Session.CreateAsync(Client, 10);
        await using var s2 = await Concurrency.Session.CreateAsync(Client, 10);
        var m1 = new Concurrency.Mutex(s1, "lock");
        var m2 = new Concurrency.Mutex(s2, "lock");
        await m1.LockAsync();
        Assert.False(await new Concurrency.Mutex(s2, "lock").TryLockAsync());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var second = m2.LockAsync(cts.Token);
        Assert.False(second.IsCompleted);
        // The holder can guard its writes with its ownership.
        var guarded = await Client.Kv.Txn().If(m1.IsOwnerCompare()).Then(Op.Put("fenced", "1")).CommitAsync();
        Assert.True(guarded.Succeeded);
        await m1.UnlockAsync();
        await second;
        Assert.True(m2.Revision > m1.Revision || m1.Revision == 0);
        Assert.StartsWith("lock/", m2.Key, StringComparison.Ordinal);
        await m2.UnlockAsync();
    }

    [Fact]
    public async Task Election_campaign_proclaim_observe_resign()
    {
        await using var s1 = await Concurrency.Session.CreateAsync(Client, 10);
        await using var s2 = await Concurrency.Session.CreateAsync(Client, 10);
        var e1 = new Concurrency.Election(s1, "elect");
        var e2 = new Concurrency.Election(s2, "elect");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await e1.CampaignAsync("a", cts.Token);
        var second = e2.CampaignAsync("b", cts.Token);
        var observed = new List<string>();
        await using var obs = Concurrency.Election.ObserveAsync(Client, "elect", cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await obs.MoveNextAsync());
        Assert.Equal("a", S(obs.Current.Value));
        await e1.ProclaimAsync("a2", cts.Token);
        Assert.True(await obs.MoveNextAsync());
        Assert.Equal("a2", S(obs.Current.Value));
        Assert.False(second.IsCompleted);
        await e1.ResignAsync(cts.Token);
        await second;
        Assert.True(await obs.MoveNextAsync());
        Assert.Equal("b", S(obs.Current.Value));
        Assert.Equal("b", S((await Concurrency.Election.LeaderAsync(Client, "elect", cts.Token))!.Value));
    }

    [Fact]
    public async Task Request_timeout_and_dial_failure_surface_as_grpc_errors()
    {
        var dead = Tools.FreePort();
        await using var c = new KetchClient(new KetchClientOptions
        {
            Endpoints = [$"127.0.0.1:{dead}"],
            DialTimeout = TimeSpan.FromMilliseconds(500),
            RequestTimeout = TimeSpan.FromSeconds(1),
        });
        var ex = await Assert.ThrowsAsync<RpcException>(() => c.Kv.GetAsync("x"));
        Assert.True(ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded, ex.ToString());
    }
}

/// <summary>The client tests against real etcd.</summary>
public sealed class EtcdClientTests : ClientTests
{
    protected override IClusterProvider Provider => EtcdClusterProvider.Instance;
}

/// <summary>The same client tests against a ketch member.</summary>
public sealed class KetchClientTests : ClientTests
{
    protected override IClusterProvider Provider => KetchClusterProvider.Instance;
}
