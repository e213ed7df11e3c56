using Google.Protobuf;
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
}
