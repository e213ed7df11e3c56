using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>etcd's <c>--force-new-cluster</c>: recovering the data of one member when its cluster
/// lost its quorum for good.</summary>
public sealed class ForceNewClusterTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task A_survivor_restarts_as_a_one_member_cluster_with_every_committed_key()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.LeaderAsync();
        var lease = await leader.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 600 });
        for (var i = 0; i < 20; i++)
        {
            await TestCluster.PutAsync(leader, $"fnc/{i:D2}", $"v{i}");
        }
        await leader.Kv.PutAsync(new PutRequest { Key = B("fnc/leased"), Value = B("x"), Lease = lease.ID });
        var last = await TestCluster.PutAsync(leader, "fnc/last", "done");
        var survivor = c.Members.First(m => m != leader);
        await TestNet.WaitUntil(async () => (await survivor.Kv.RangeAsync(new RangeRequest { Key = B("fnc/last"), Serializable = true })).Count == 1,
            TimeSpan.FromSeconds(10), "the survivor to apply the last write");
        var survivorId = survivor.Server.MemberId;
        var clusterId = survivor.Server.ClusterId;
        foreach (var m in c.Members)
        {
            await m.StopAsync(); // the whole cluster is lost; only the survivor's disk is left
        }

        var forced = new KetchServer(survivor.Options with { ForceNewCluster = true });
        try
        {
            await forced.StartAsync();
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
            {
                await forced.WaitForLeaderAsync(cts.Token);
            }
            Assert.Equal(survivorId, forced.Leader);
            Assert.Equal(clusterId, forced.ClusterId);
            using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(survivor.ClientUrl);
            var kv = new KV.KVClient(channel);
            var all = await kv.RangeAsync(new RangeRequest { Key = B("fnc/"), RangeEnd = B("fnc0") });
            Assert.Equal(22, all.Count);
            Assert.True(all.Header.Revision >= last.Header.Revision);
            var members = await new Cluster.ClusterClient(channel).MemberListAsync(new MemberListRequest());
            Assert.Equal(survivorId, Assert.Single(members.Members).ID);
            var ttl = await new Ketch.Api.Etcdserverpb.Lease.LeaseClient(channel).LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease.ID, Keys = true });
            Assert.Equal("fnc/leased", Assert.Single(ttl.Keys).ToStringUtf8());
            var after = await kv.PutAsync(new PutRequest { Key = B("fnc/after"), Value = B("y") }); // a quorum of one
            Assert.True(after.Header.Revision > all.Header.Revision);
        }
        finally
        {
            await forced.DisposeAsync();
        }

        // The rewrite is in its log: a plain restart is still the one-member cluster.
        await survivor.StartFromDiskAsync();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            await survivor.Server.WaitForLeaderAsync(cts.Token);
        }
        Assert.Single((await survivor.Cluster.MemberListAsync(new MemberListRequest())).Members);
        Assert.Equal(1, (await survivor.Kv.RangeAsync(new RangeRequest { Key = B("fnc/after") })).Count);
    }
}
