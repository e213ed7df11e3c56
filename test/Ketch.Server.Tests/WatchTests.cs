using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Api.Mvccpb;

namespace Ketch.Server.Tests;

public sealed class WatchTests(SingleMemberFixture fixture) : IClassFixture<SingleMemberFixture>
{
    private TestMember M => fixture.Member;

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static async Task<WatchResponse> Next(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.True(await call.ResponseStream.MoveNext(cts.Token), "watch stream ended");
        return call.ResponseStream.Current;
    }

    [Fact]
    public async Task Many_watchers_on_one_stream_with_prefix_prev_kv_filters_and_cancel()
    {
        using var call = M.Watch.Watch();
        await M.Kv.PutAsync(new PutRequest { Key = B("w1/a"), Value = B("old") });
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w1/"), RangeEnd = B("w10"), PrevKv = true } });
        var created = await Next(call);
        Assert.True(created.Created);
        var prefixId = created.WatchId;
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w1/a"), Filters = { WatchCreateRequest.Types.FilterType.Noput }, WatchId = 77 } });
        var created2 = await Next(call);
        Assert.True(created2.Created);
        Assert.Equal(77, created2.WatchId);
        // The same id again: refused, answered with id -1 (as etcd), and watcher 77 goes on.
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w1/b"), WatchId = 77 } });
        var duplicate = await Next(call);
        Assert.Equal((true, true, -1L, "mvcc: duplicate watch ID provided on the WatchStream"),
            (duplicate.Created, duplicate.Canceled, duplicate.WatchId, duplicate.CancelReason));

        await M.Kv.PutAsync(new PutRequest { Key = B("w1/a"), Value = B("new") });
        var ev = await Next(call);
        Assert.Equal(prefixId, ev.WatchId);
        Assert.Equal(Event.Types.EventType.Put, ev.Events[0].Type);
        Assert.Equal("new", ev.Events[0].Kv.Value.ToStringUtf8());
        Assert.Equal("old", ev.Events[0].PrevKv.Value.ToStringUtf8());

        await M.Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("w1/a") });
        var seen = new Dictionary<long, WatchResponse>();
        while (seen.Count < 2)
        {
            var r = await Next(call);
            seen[r.WatchId] = r;
        }
        Assert.Equal(Event.Types.EventType.Delete, seen[prefixId].Events[0].Type);
        Assert.Equal(Event.Types.EventType.Delete, seen[77].Events[0].Type);

        await call.RequestStream.WriteAsync(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = 77 } });
        var canceled = await Next(call);
        Assert.True(canceled.Canceled);
        Assert.Equal(77, canceled.WatchId);
    }

    [Fact]
    public async Task Start_revision_replays_history_and_progress_request_answers()
    {
        var p1 = await M.Kv.PutAsync(new PutRequest { Key = B("w2/k"), Value = B("1") });
        await M.Kv.PutAsync(new PutRequest { Key = B("w2/k"), Value = B("2") });
        using var call = M.Watch.Watch();
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w2/k"), StartRevision = p1.Header.Revision } });
        Assert.True((await Next(call)).Created);
        var values = new List<string>();
        while (values.Count < 2)
        {
            var r = await Next(call);
            values.AddRange(r.Events.Select(e => e.Kv.Value.ToStringUtf8()));
        }
        Assert.Equal(["1", "2"], values);
        await call.RequestStream.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() });
        var progress = await Next(call);
        Assert.Empty(progress.Events);
        Assert.True(progress.Header.Revision >= p1.Header.Revision + 1);
    }

    [Fact]
    public async Task Watch_from_compacted_revision_is_canceled_with_compact_revision()
    {
        var p1 = await M.Kv.PutAsync(new PutRequest { Key = B("w3/k"), Value = B("1") });
        var p2 = await M.Kv.PutAsync(new PutRequest { Key = B("w3/k"), Value = B("2") });
        await M.Kv.CompactAsync(new CompactionRequest { Revision = p2.Header.Revision });
        using var call = M.Watch.Watch();
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w3/k"), StartRevision = p1.Header.Revision } });
        Assert.True((await Next(call)).Created);
        var canceled = await Next(call);
        Assert.True(canceled.Canceled);
        Assert.True(canceled.CompactRevision >= p2.Header.Revision);
        // As etcd: no reason and no revision; clients tell a compaction by the compact revision.
        Assert.Equal("", canceled.CancelReason);
        Assert.Equal(0, canceled.Header.Revision);
    }

    [Fact]
    public async Task A_large_revision_is_fragmented_when_asked()
    {
        // One txn writing 3 values of 700 KB: one revision of ~2.1 MB, above the 1.5 MiB limit.
        var big = ByteString.CopyFrom(new byte[700 * 1024]);
        using var call = M.Watch.Watch();
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w4/"), RangeEnd = B("w40"), Fragment = true } });
        Assert.True((await Next(call)).Created);
        foreach (var k in new[] { "a", "b", "c" })
        {
            await M.Kv.PutAsync(new PutRequest { Key = B("w4/" + k), Value = big });
        }
        var txn = new TxnRequest();
        foreach (var k in new[] { "a", "b", "c" })
        {
            txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B("w4/" + k) } });
        }
        await M.Kv.TxnAsync(txn);
        // Three single puts, then the deletes of one revision; with prev_kv off deletes are small,
        // so check the puts arrived whole and the txn's revision arrives as one logical response.
        var events = new List<Ketch.Api.Mvccpb.Event>();
        while (events.Count < 6)
        {
            var r = await Next(call);
            events.AddRange(r.Events);
        }
        Assert.Equal(3, events.Count(e => e.Type == Ketch.Api.Mvccpb.Event.Types.EventType.Delete));

        using var call2 = M.Watch.Watch();
        var start = events[0].Kv.ModRevision;
        await call2.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w4/"), RangeEnd = B("w40"), Fragment = true, PrevKv = true, StartRevision = start + 3 } });
        Assert.True((await Next(call2)).Created);
        // The delete revision with prev_kv carries ~2.1 MB: split into fragments under the limit.
        var parts = new List<WatchResponse>();
        do
        {
            parts.Add(await Next(call2));
        }
        while (parts[^1].Fragment);
        Assert.True(parts.Count >= 2);
        Assert.Equal(3, parts.Sum(p => p.Events.Count));
        Assert.All(parts, p => Assert.True(p.CalculateSize() <= 1536 * 1024 + 1024));
    }
}
