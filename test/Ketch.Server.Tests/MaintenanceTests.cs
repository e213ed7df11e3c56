using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

public sealed class MaintenanceTests(SingleMemberFixture fixture) : IClassFixture<SingleMemberFixture>
{
    private TestMember M => fixture.Member;

    [Fact]
    public async Task The_grpc_health_service_reports_serving_as_etcds()
    {
        var health = new Grpc.Health.V1.Health.HealthClient(M.Channel);
        var all = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest { Service = "" });
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, all.Status);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest { Service = "no.such.Service" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        using var watch = health.Watch(new Grpc.Health.V1.HealthCheckRequest { Service = "" });
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, watch.ResponseStream.Current.Status);
    }

    [Fact]
    public async Task Status_reports_leader_indexes_and_version()
    {
        await M.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("m1/a"), Value = ByteString.CopyFromUtf8("x") });
        var s = await M.Maintenance.StatusAsync(new StatusRequest());
        Assert.Equal("3.5.13", s.Version);
        Assert.Equal(M.Server.MemberId, s.Leader);
        Assert.True(s.RaftIndex >= 2);
        Assert.True(s.RaftAppliedIndex >= 2);
        Assert.True(s.RaftTerm >= 1);
        Assert.True(s.DbSize > 0);
        Assert.False(s.IsLearner);
        var members = await M.Cluster.MemberListAsync(new MemberListRequest());
        var me = Assert.Single(members.Members);
        Assert.Equal(M.Server.MemberId, me.ID);
        Assert.Equal("m1", me.Name);
        Assert.Equal([M.ClientUrl], me.ClientURLs);
    }

    [Fact]
    public async Task Alarms_activate_list_and_disarm()
    {
        var none = await M.Maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get });
        Assert.Empty(none.Alarms);
        await M.Maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Activate, MemberID = M.Server.MemberId, Alarm = AlarmType.Nospace });
        try
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => M.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("m2/a"), Value = ByteString.CopyFromUtf8("x") }).ResponseAsync);
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Equal("etcdserver: mvcc: database space exceeded", e.Status.Detail);
            // Reads and deletes still work.
            await M.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("m2/a") });
            await M.Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("m2/a") });
            var list = await M.Maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get });
            Assert.Equal(AlarmType.Nospace, Assert.Single(list.Alarms).Alarm);
        }
        finally
        {
            await M.Maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, MemberID = M.Server.MemberId, Alarm = AlarmType.Nospace });
        }
        await M.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("m2/a"), Value = ByteString.CopyFromUtf8("x") });
    }

    [Fact]
    public async Task Hash_and_snapshot_stream_with_checksum()
    {
        var h1 = await M.Maintenance.HashKVAsync(new HashKVRequest());
        var h2 = await M.Maintenance.HashKVAsync(new HashKVRequest { Revision = h1.Header.Revision });
        Assert.Equal(h1.Hash, h2.Hash);
        using var call = M.Maintenance.Snapshot(new SnapshotRequest());
        var data = new MemoryStream();
        ulong lastRemaining = ulong.MaxValue;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            call.ResponseStream.Current.Blob.WriteTo(data);
            lastRemaining = call.ResponseStream.Current.RemainingBytes;
        }
        Assert.Equal(0UL, lastRemaining);
        var bytes = data.ToArray();
        Assert.Equal(32, bytes.Length % 512);
        Assert.Equal(SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)), bytes[^32..]);
        await M.Maintenance.DefragmentAsync(new DefragmentRequest());
    }

    [Fact]
    public async Task Member_update_changes_peer_urls()
    {
        var list = await M.Cluster.MemberListAsync(new MemberListRequest());
        var me = list.Members[0];
        var upd = await M.Cluster.MemberUpdateAsync(new MemberUpdateRequest { ID = me.ID, PeerURLs = { me.PeerURLs } });
        Assert.Equal(me.PeerURLs, upd.Members[0].PeerURLs);
        var bad = await Assert.ThrowsAsync<RpcException>(() => M.Cluster.MemberUpdateAsync(new MemberUpdateRequest { ID = me.ID + 1, PeerURLs = { "http://127.0.0.1:1" } }).ResponseAsync);
        Assert.Equal("etcdserver: member not found", bad.Status.Detail);
        var badUrl = await Assert.ThrowsAsync<RpcException>(() => M.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "not a url" } }).ResponseAsync);
        Assert.Equal("etcdserver: given member URLs are invalid", badUrl.Status.Detail);
    }
}
