using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

public sealed class ShutdownTests
{
    [Fact]
    public async Task A_member_with_open_watch_and_keepalive_streams_stops_promptly()
    {
        var m = await TestMember.StartSingleAsync();
        using var watch = m.Watch.Watch();
        await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8("sd/") } });
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        using var ka = m.Lease.LeaseKeepAlive();
        var started = DateTime.UtcNow;
        await m.DisposeAsync();
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "stopping took too long");
    }

    [Fact]
    public async Task Streams_open_when_the_member_stops_end_unavailable_with_etcds_server_stopped()
    {
        // UNAVAILABLE tells a client to go to another member; a stream merely cut (no gRPC status)
        // is reported as INTERNAL by grpc-js. The watch's request side is half-closed (it keeps
        // streaming, as on etcd): with it open, HTTP/2 resets the request side after the trailers,
        // and the .NET client may report that reset instead of the status it already received.
        var m = await TestMember.StartSingleAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watch = m.Watch.Watch(cancellationToken: deadline.Token);
        await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8("sd/") } });
        await watch.RequestStream.CompleteAsync();
        Assert.True(await watch.ResponseStream.MoveNext(deadline.Token));
        var grant = await m.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 });
        var elections = new Ketch.Api.V3electionpb.Election.ElectionClient(m.Channel);
        await elections.CampaignAsync(new Ketch.Api.V3electionpb.CampaignRequest { Name = ByteString.CopyFromUtf8("sd-e"), Lease = grant.ID, Value = ByteString.CopyFromUtf8("v") });
        using var observe = elections.Observe(new Ketch.Api.V3electionpb.LeaderRequest { Name = ByteString.CopyFromUtf8("sd-e") }, cancellationToken: deadline.Token);
        Assert.True(await observe.ResponseStream.MoveNext(deadline.Token));

        var stopping = m.Server.DisposeAsync().AsTask();
        foreach (var next in new[] { watch.ResponseStream.MoveNext(deadline.Token), observe.ResponseStream.MoveNext(deadline.Token) })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => next);
            Assert.Equal((StatusCode.Unavailable, "etcdserver: server stopped"), (e.StatusCode, e.Status.Detail));
        }
        await stopping;
        await m.DisposeAsync();
    }
}
