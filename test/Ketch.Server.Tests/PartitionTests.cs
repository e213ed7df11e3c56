using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>
/// Network partitions cut by <see cref="PartitionProxy"/> while every member keeps running: the
/// case that stopping members cannot show, an old leader that does not know it was deposed.
/// </summary>
public sealed class PartitionTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task A_partitioned_old_leader_serves_nothing_stale_and_loses_no_acknowledged_write()
    {
        await using var c = await TestCluster.StartAsync(3, partitionable: true, tweak: o => o with { RequestTimeout = TimeSpan.FromSeconds(2) });
        var old = await c.LeaderAsync();
        await TestCluster.PutAsync(old, "p/k", "1");
        var majority = c.Members.Where(m => m != old).ToList();

        c.Partition(old);
        var leader = await c.LeaderAsync(majority);
        Assert.NotSame(old, leader);
        var acked = await TestCluster.PutAsync(leader, "p/k", "2");

        // The minority side: no linearizable read (it would be stale) and no write.
        var read = await Assert.ThrowsAsync<RpcException>(() => old.Kv.RangeAsync(new RangeRequest { Key = B("p/k") }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, read.StatusCode);
        Assert.StartsWith("etcdserver: ", read.Status.Detail, StringComparison.Ordinal);
        var write = await Assert.ThrowsAsync<RpcException>(() => old.Kv.PutAsync(new PutRequest { Key = B("p/lost"), Value = B("x") }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, write.StatusCode);
        // A serializable read is local and may be stale by design: here it shows the cut is real.
        var local = await old.Kv.RangeAsync(new RangeRequest { Key = B("p/k"), Serializable = true });
        Assert.Equal("1", local.Kvs[0].Value.ToStringUtf8());
        await TestNet.WaitUntil(() => old.Server.Leader != old.Server.MemberId, TimeSpan.FromSeconds(10), "the old leader to step down (check quorum)");

        c.Heal();
        await TestNet.WaitUntil(async () =>
            (await old.Kv.RangeAsync(new RangeRequest { Key = B("p/k"), Serializable = true })).Kvs[0].Value.ToStringUtf8() == "2",
            TimeSpan.FromSeconds(20), "the old leader to catch up after the partition heals");
        foreach (var m in c.Members)
        {
            var got = await m.Kv.RangeAsync(new RangeRequest { Key = B("p/"), RangeEnd = B("p0") });
            // The acknowledged write is everywhere; the write refused on the minority never applied.
            Assert.Equal(["p/k"], got.Kvs.Select(kv => kv.Key.ToStringUtf8()));
            Assert.Equal("2", got.Kvs[0].Value.ToStringUtf8());
            Assert.Equal(acked.Header.Revision, got.Kvs[0].ModRevision);
        }
    }
}
