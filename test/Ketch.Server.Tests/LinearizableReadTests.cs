using Grpc.Core;
using Google.Protobuf;
using Ketch.Api.Etcdserverpb;
using Xunit;

namespace Ketch.Server.Tests;

public sealed class LinearizableReadTests
{
    /// <summary>
    /// A reader whose request was already cancelled when it asked (a /health probe whose client had
    /// hung up, seen under load) used to leave its read batch with the loop never told: every later
    /// linearizable read on that member then timed out, for good, while writes still worked.
    /// </summary>
    [Fact]
    public async Task A_reader_cancelled_before_its_read_index_was_asked_leaves_later_reads_working()
    {
        await using var m = await TestMember.StartSingleAsync();
        await m.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") });

        using var gone = new CancellationTokenSource();
        await gone.CancelAsync();
        var cancelled = await Assert.ThrowsAsync<RpcException>(() => m.Server.Loop.WaitLinearizableAsync(gone.Token));
        Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        await m.Server.Loop.WaitLinearizableAsync(deadline.Token);
        var got = await m.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }, deadline: DateTime.UtcNow.AddSeconds(4));
        Assert.Equal("v", got.Kvs.Single().Value.ToStringUtf8());
    }
}
