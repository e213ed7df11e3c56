using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>Quorum loss, quota, malformed input, lease TTLs across leader changes, auto compaction.</summary>
public sealed class FaultTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task A_member_without_quorum_refuses_linearizable_reads_and_writes()
    {
        await using var c = await TestCluster.StartAsync(3);
        await c.LeaderAsync();
        var survivor = c.Members[2];
        await TestCluster.PutAsync(survivor, "q/a", "1");
        await c.Members[0].StopAsync();
        await c.Members[1].StopAsync();
        await TestNet.WaitUntil(() => survivor.Server.Leader == 0, TimeSpan.FromSeconds(10), "the survivor to lose its leader");
        var put = await Assert.ThrowsAsync<RpcException>(() => survivor.Kv.PutAsync(new PutRequest { Key = B("q/b"), Value = B("2") }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, put.StatusCode);
        Assert.Contains(put.Status.Detail, new[] { "etcdserver: no leader", "etcdserver: request timed out" });
        var read = await Assert.ThrowsAsync<RpcException>(() => survivor.Kv.RangeAsync(new RangeRequest { Key = B("q/a") }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, read.StatusCode);
        // A serializable read is local and may be stale by design.
        var local = await survivor.Kv.RangeAsync(new RangeRequest { Key = B("q/a"), Serializable = true });
        Assert.Equal("1", local.Kvs[0].Value.ToStringUtf8());
        using var http = new HttpClient();
        var health = await http.GetAsync(survivor.ClientUrl + "/health");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal("{\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}", await health.Content.ReadAsStringAsync());
        // ?serializable=true asks about the member alone (kubeadm's liveness probe): it is alive.
        var alone = await http.GetAsync(survivor.ClientUrl + "/health?serializable=true");
        Assert.Equal(System.Net.HttpStatusCode.OK, alone.StatusCode);
        Assert.Equal("{\"health\":\"true\",\"reason\":\"\"}", await alone.Content.ReadAsStringAsync());
        // /livez: alive (do not restart it); /readyz: not ready, and says which check failed.
        Assert.Equal("ok\n", await http.GetStringAsync(survivor.ClientUrl + "/livez"));
        var ready = await http.GetAsync(survivor.ClientUrl + "/readyz");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var readyLines = (await ready.Content.ReadAsStringAsync()).Split('\n');
        Assert.Equal("[+]data_corruption ok", readyLines[0]);
        Assert.StartsWith("[-]linearizable_read failed: etcdserver: ", readyLines[2], StringComparison.Ordinal);
        Assert.Equal("readyz check failed", readyLines[4]);
        // etcdctl endpoint status shows it in its errors, as etcd reports it.
        var status = await survivor.Maintenance.StatusAsync(new StatusRequest());
        Assert.Equal(0UL, status.Leader);
        Assert.Equal(["etcdserver: no leader"], status.Errors);
    }

    [Fact]
    public async Task A_txn_with_an_unknown_compare_target_in_the_log_fails_alone_and_survives_restarts()
    {
        // Proposed past the API's check, as an entry written by an older member would be: until
        // 2026-11-27 applying it threw, stopping the member at every restart, and every member of
        // a cluster applies it.
        await using var m = await TestMember.StartSingleAsync();
        var poison = new TxnRequest
        {
            Compare = { new Compare { Key = B("poison/x"), Target = (Compare.Types.CompareTarget)99 } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = B("poison/y"), Value = B("v") } } },
        };
        var applied = await m.Server.Loop.ProposeAsync(Ketch.Server.Apply.RaftRequestKind.Txn, poison, CancellationToken.None);
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: invalid compare target or result"), (applied.Error!.StatusCode, applied.Error.Status.Detail));
        await m.Kv.PutAsync(new PutRequest { Key = B("poison/after"), Value = B("1") });

        await m.RestartAsync(); // replays the entry
        Assert.Equal(0, (await m.Kv.RangeAsync(new RangeRequest { Key = B("poison/y") })).Count);
        Assert.Equal(1, (await m.Kv.RangeAsync(new RangeRequest { Key = B("poison/after") })).Count);
        await m.Kv.PutAsync(new PutRequest { Key = B("poison/after-restart"), Value = B("2") });
    }

    [Fact]
    public async Task Exceeding_the_quota_raises_nospace_and_refuses_writes_until_disarmed()
    {
        await using var m = await TestMember.StartSingleAsync(o => o with { QuotaBackendBytes = 256 * 1024 });
        var value = ByteString.CopyFrom(new byte[16 * 1024]);
        RpcException? refused = null;
        for (var i = 0; i < 200 && refused is null; i++)
        {
            try
            {
                await m.Kv.PutAsync(new PutRequest { Key = B($"quota/{i}"), Value = value });
            }
            catch (RpcException e)
            {
                refused = e;
            }
        }
        Assert.NotNull(refused);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal("etcdserver: mvcc: database space exceeded", refused.Status.Detail);
        await TestNet.WaitUntil(async () => (await m.Maintenance.AlarmAsync(new AlarmRequest())).Alarms.Any(a => a.Alarm == AlarmType.Nospace),
            TimeSpan.FromSeconds(5), "the NOSPACE alarm");
        var grant = await Assert.ThrowsAsync<RpcException>(() => m.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 10 }).ResponseAsync);
        Assert.Equal("etcdserver: mvcc: database space exceeded", grant.Status.Detail);
        await m.Kv.RangeAsync(new RangeRequest { Key = B("quota/0") });
        await m.Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("quota/"), RangeEnd = B("quota0") });
        var status = await m.Maintenance.StatusAsync(new StatusRequest());
        Assert.Contains(status.Errors, e => e.Contains("NOSPACE", StringComparison.Ordinal));
        using (var http = new HttpClient())
        {
            var health = await http.GetAsync(m.ClientUrl + "/health");
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Equal("{\"health\":\"false\",\"reason\":\"ALARM NOSPACE\"}", await health.Content.ReadAsStringAsync());
            // etcd 3.5's ?exclude=: kubeadm's probes ignore NOSPACE so that a full member is not restarted.
            var excluded = await http.GetAsync(m.ClientUrl + "/health?exclude=NOSPACE");
            Assert.Equal(System.Net.HttpStatusCode.OK, excluded.StatusCode);
            Assert.Equal("{\"health\":\"true\",\"reason\":\"\"}", await excluded.Content.ReadAsStringAsync());
        }
        await m.Maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, Alarm = AlarmType.Nospace });
        Assert.Empty((await m.Maintenance.AlarmAsync(new AlarmRequest())).Alarms);
    }

    [Fact]
    public async Task Stock_etcdctl_sees_the_nospace_alarm_as_on_etcd_and_clears_it_the_same_way()
    {
        // The same quota on both servers; stock etcdctl fills it, lists the alarm, is refused,
        // then frees space (delete, compact, defrag), disarms and writes again.
        Etcdctl.Require();
        const long Quota = 256 * 1024;
        await using var m = await TestMember.StartSingleAsync(o => o with { QuotaBackendBytes = Quota });
        await using var etcd = await EtcdProcess.StartAsync("--quota-backend-bytes", Quota.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var value = new string('v', 16 * 1024);
        var transcripts = new List<string>();
        foreach (var endpoint in new[] { m.ClientUrl.Replace("http://", "", StringComparison.Ordinal), etcd.Endpoint.Replace("http://", "", StringComparison.Ordinal) })
        {
            var lines = new List<string>();
            async Task<(int Exit, string Out, string Err)> Run(string args)
            {
                var r = await Etcdctl.RunAsync(endpoint, args);
                var errors = string.Join("|", r.Err.Split('\n').Where(l => l.StartsWith("Error:", StringComparison.Ordinal)));
                // Member ids differ between the servers.
                lines.Add($"{args.Split(' ')[0]} {args.Split(' ').ElementAtOrDefault(1)} -> {r.Exit} {System.Text.RegularExpressions.Regex.Replace(r.Out, "memberID:[0-9]+", "memberID:<id>").Trim()} {errors}");
                return r;
            }
            var filled = false;
            for (var i = 0; i < 200 && !filled; i++)
            {
                var r = await Etcdctl.RunAsync(endpoint, $"put quota/{i} {value}");
                filled = r.Exit != 0;
            }
            Assert.True(filled, $"the quota of {Quota} bytes was never reached on {endpoint}");
            await TestNet.WaitUntil(async () => (await Etcdctl.RunAsync(endpoint, "alarm list")).Out.Contains("NOSPACE", StringComparison.Ordinal),
                TimeSpan.FromSeconds(10), "the NOSPACE alarm");
            await Run("alarm list");
            await Run("put k v");
            await Run("get quota/0 --print-value-only --limit 1");
            // How many puts fit differs: the quota counts bbolt's file on etcd and the RocksDB store's
            // files on ketch. The deleted count is not compared; the rest of the transcript is.
            Assert.Equal(0, (await Etcdctl.RunAsync(endpoint, "del quota/ --prefix")).Exit);
            var rev = System.Text.RegularExpressions.Regex.Match((await Etcdctl.RunAsync(endpoint, "get k -w json")).Out, "\"revision\":(\\d+)").Groups[1].Value;
            await Etcdctl.OkAsync(endpoint, $"compaction {rev}");
            await Etcdctl.OkAsync(endpoint, "defrag");
            await Run("alarm disarm");
            await Run("alarm list");
            await Run("put k v");
            transcripts.Add(string.Join("\n", lines));
        }
        Assert.Equal(transcripts[1], transcripts[0]);
        Assert.Contains("memberID:<id> alarm:NOSPACE", transcripts[0], StringComparison.Ordinal);
        Assert.Contains("put k -> 1  Error: etcdserver: mvcc: database space exceeded", transcripts[0], StringComparison.Ordinal);
        Assert.EndsWith("put k -> 0 OK ", transcripts[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_protobuf_is_refused_and_the_member_keeps_serving()
    {
        await using var m = await TestMember.StartSingleAsync();
        var method = new Method<byte[], byte[]>(MethodType.Unary, "etcdserverpb.KV", "Put",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var invoker = m.Channel.CreateCallInvoker();
        var e = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(method, null, default, [0x0A, 0xFF, 0xFF, 0x01]).ResponseAsync);
        Assert.NotEqual(StatusCode.OK, e.StatusCode);
        var ok = await m.Kv.PutAsync(new PutRequest { Key = B("mal/ok"), Value = B("v") });
        Assert.True(ok.Header.Revision > 1);
    }

    [Fact]
    public async Task A_corrupt_alarm_refuses_writes_with_data_loss_and_keeps_reads_until_disarmed()
    {
        await using var m = await TestMember.StartSingleAsync();
        await m.Kv.PutAsync(new PutRequest { Key = B("c/k"), Value = B("before") });
        var expiring = await m.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 2 });
        await m.Kv.PutAsync(new PutRequest { Key = B("c/leased"), Value = B("x"), Lease = expiring.ID });
        await m.Maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Activate, MemberID = m.Server.MemberId, Alarm = AlarmType.Corrupt });

        var refusals = new Func<Task>[]
        {
            () => m.Kv.PutAsync(new PutRequest { Key = B("c/k"), Value = B("during") }).ResponseAsync,
            () => m.Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("c/k") }).ResponseAsync,
            () => m.Kv.TxnAsync(new TxnRequest { Success = { new RequestOp { RequestPut = new PutRequest { Key = B("c/t"), Value = B("x") } } } }).ResponseAsync,
            () => m.Kv.CompactAsync(new CompactionRequest { Revision = 1 }).ResponseAsync,
            () => m.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 10 }).ResponseAsync,
        };
        foreach (var write in refusals)
        {
            var e = await Assert.ThrowsAsync<RpcException>(write);
            Assert.Equal(StatusCode.DataLoss, e.StatusCode);
            Assert.Equal("etcdserver: corrupt cluster", e.Status.Detail);
        }
        Assert.Equal("before", (await m.Kv.RangeAsync(new RangeRequest { Key = B("c/k") })).Kvs[0].Value.ToStringUtf8());
        // The lease expires meanwhile; its revocation is refused like any write, so its key stays.
        await TestNet.WaitUntil(async () => (await m.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = expiring.ID })).TTL <= 0,
            TimeSpan.FromSeconds(10), "the lease to expire under the alarm");
        // Nothing else is written now: the next applied entry is the leader's revocation, refused.
        var applied = (await m.Maintenance.StatusAsync(new StatusRequest())).RaftAppliedIndex;
        await TestNet.WaitUntil(async () => (await m.Maintenance.StatusAsync(new StatusRequest())).RaftAppliedIndex > applied,
            TimeSpan.FromSeconds(10), "the expired lease's revocation to be applied (and refused)");
        Assert.Single((await m.Kv.RangeAsync(new RangeRequest { Key = B("c/leased") })).Kvs);

        await m.Maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, Alarm = AlarmType.Corrupt });
        await m.Kv.PutAsync(new PutRequest { Key = B("c/k"), Value = B("after") });
        Assert.Equal("after", (await m.Kv.RangeAsync(new RangeRequest { Key = B("c/k") })).Kvs[0].Value.ToStringUtf8());
        // Once writes are accepted again, the refused revocation is tried again (etcd: every 3 s).
        await TestNet.WaitUntil(async () => (await m.Kv.RangeAsync(new RangeRequest { Key = B("c/leased") })).Kvs.Count == 0,
            TimeSpan.FromSeconds(15), "the expired lease's key to be revoked after the alarm is cleared");
    }

    [Fact]
    public async Task Lease_ttl_is_checkpointed_so_a_new_leader_does_not_extend_it()
    {
        await using var c = await TestCluster.StartAsync(3, tweak: o => o with { LeaseCheckpointInterval = TimeSpan.FromMilliseconds(300) });
        var leader = await c.LeaderAsync();
        var grant = await leader.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 });
        await TestNet.WaitUntil(async () => (await leader.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID })).TTL <= 57,
            TimeSpan.FromSeconds(10), "three seconds of the lease to pass");
        // Let a checkpoint carrying the reduced TTL commit everywhere.
        var applied = (await leader.Maintenance.StatusAsync(new StatusRequest())).RaftAppliedIndex;
        await TestNet.WaitUntil(async () => (await leader.Maintenance.StatusAsync(new StatusRequest())).RaftAppliedIndex > applied + 1,
            TimeSpan.FromSeconds(10), "a checkpoint to apply");
        await leader.StopAsync();
        var rest = c.Members.Where(m => m != leader).ToList();
        var next = await c.LeaderAsync(rest);
        var ttl = await next.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID });
        Assert.Equal(60, ttl.GrantedTTL);
        Assert.InRange(ttl.TTL, 1, 58);
    }

    [Fact]
    public async Task Auto_compaction_in_revision_mode()
    {
        await using var m = await TestMember.StartSingleAsync(o => o with
        {
            AutoCompactionMode = "revision",
            AutoCompactionRetention = "5",
            AutoCompactionCheckInterval = TimeSpan.FromMilliseconds(100),
        });
        for (var i = 0; i < 20; i++)
        {
            await m.Kv.PutAsync(new PutRequest { Key = B("ac/k"), Value = B($"{i}") });
        }
        await TestNet.WaitUntil(async () =>
        {
            try
            {
                await m.Kv.RangeAsync(new RangeRequest { Key = B("ac/k"), Revision = 3 });
                return false;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.OutOfRange)
            {
                return true;
            }
        }, TimeSpan.FromSeconds(10), "auto compaction");
        var latest = await m.Kv.RangeAsync(new RangeRequest { Key = B("ac/k") });
        await m.Kv.RangeAsync(new RangeRequest { Key = B("ac/k"), Revision = latest.Header.Revision - 4 });
    }
}
