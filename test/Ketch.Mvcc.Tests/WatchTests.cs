using Xunit;
using static Ketch.Mvcc.Tests.Stores;

namespace Ketch.Mvcc.Tests;

public sealed class WatchTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly KvStore _store;

    public WatchTests() => _store = KvStore.Open(Options(_dir.Path, batchLimit: 50));

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private void Put(string k, string v) => _store.Put(new PutRequest { Key = B(k), Value = B(v) });

    /// <summary>One txn per revision writing three keys under "p/" and one outside.</summary>
    private void WriteTriples(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _store.Txn(new TxnRequest
            {
                Success =
                [
                    new RequestOp { Put = new PutRequest { Key = B("p/a"), Value = B($"{i}") } },
                    new RequestOp { Put = new PutRequest { Key = B("p/b"), Value = B($"{i}") } },
                    new RequestOp { Put = new PutRequest { Key = B("q"), Value = B($"{i}") } },
                    new RequestOp { Put = new PutRequest { Key = B("p/c"), Value = B($"{i}") } },
                ],
            });
        }
    }

    [Fact]
    public async Task AHopelesslySlowWatcherIsCancelledWithTheRevisionToResumeFrom()
    {
        using var dir = new TempDir();
        using var store = KvStore.Open(Options(dir.Path) with { WatchQueueCapacity = 2, MaxWatcherLagRevisions = 20 });
        using var w = store.Watch(new WatchRequest { Key = B("k") });
        for (var i = 0; i < 40; i++)
        {
            store.Put(new PutRequest { Key = B("k"), Value = B($"{i}") });
        }
        // The two queued responses come first, in order; then the watcher is found 37+ revisions
        // behind and cancelled, saying where to resume.
        Assert.Equal(2, (await Next(w))!.Events[0].Kv.ModRevision);
        Assert.Equal(3, (await Next(w))!.Events[0].Kv.ModRevision);
        var cancel = await Next(w);
        Assert.NotNull(cancel);
        Assert.True(cancel.Canceled);
        Assert.Contains("too slow", cancel.CancelReason);
        Assert.Contains("resume from revision 4", cancel.CancelReason);
        Assert.Null(await Next(w));

        // A watcher replaying history from an old start revision is not slow: it catches up
        // from the backend however far back it starts.
        using var replay = store.Watch(new WatchRequest { Key = B("k"), StartRevision = 2 });
        var r = await Next(replay);
        Assert.False(r!.Canceled);
        Assert.Equal(2, r.Events[0].Kv.ModRevision);
    }

    /// <summary>Reads until <paramref name="lastRev"/> is seen; checks order, uniqueness, atomicity, no gaps.</summary>
    private static async Task<List<WatchResponse>> ReadAllTriples(Watcher w, long firstRev, long lastRev)
    {
        var responses = new List<WatchResponse>();
        var expected = firstRev;
        while (expected <= lastRev)
        {
            var r = await Next(w) ?? throw new Xunit.Sdk.XunitException("watch ended early");
            Assert.False(r.Canceled);
            responses.Add(r);
            Assert.True(r.Events.Count % 3 == 0, "a revision was split: " + Describe.Events(r));
            for (var i = 0; i < r.Events.Count; i += 3)
            {
                // Atomic and ordered: the three events of one revision, in txn order, then the next revision.
                Assert.Equal(["p/a", "p/b", "p/c"], r.Events.Skip(i).Take(3).Select(e => S(e.Kv.Key)));
                Assert.All(r.Events.Skip(i).Take(3), e => Assert.Equal(expected, e.Kv.ModRevision));
                expected++;
            }
        }

        Assert.Equal(lastRev + 1, expected);
        return responses;
    }

    [Fact]
    public async Task Events_are_ordered_unique_atomic_and_gapless()
    {
        using var w = _store.Watch(new WatchRequest { Key = B("p/"), RangeEnd = B("p0") });
        var reader = ReadAllTriples(w, 2, 201);
        WriteTriples(200);
        await reader;
    }

    [Fact]
    public async Task A_slow_watcher_catches_up_without_blocking_the_writer_or_others()
    {
        using var slow = _store.Watch(new WatchRequest { Key = B("p/"), RangeEnd = B("p0") });
        using var fast = _store.Watch(new WatchRequest { Key = B("p/"), RangeEnd = B("p0") });
        var fastReader = ReadAllTriples(fast, 2, 501);

        // Queue capacity is 8: the writer must never wait on the slow watcher.
        var writer = Task.Run(() => WriteTriples(500));
        await writer.WaitAsync(TimeSpan.FromSeconds(30));
        await fastReader.WaitAsync(TimeSpan.FromSeconds(30));

        var responses = await ReadAllTriples(slow, 2, 501);
        Assert.Contains(responses, r => r.Events.Count > 3); // some came from the backend in batches
        Assert.True(slow.RequestProgress()); // synced again
    }

    [Fact]
    public async Task A_watch_resumes_at_last_plus_one()
    {
        WriteTriples(10); // revisions 2..11
        long last;
        using (var first = _store.Watch(new WatchRequest { Key = B("p/"), RangeEnd = B("p0"), StartRevision = 2 }))
        {
            var r = await Next(first);
            last = r!.Events[^1].Kv.ModRevision;
            Assert.True(last >= 2);
        }

        WriteTriples(5); // revisions 12..16
        using var resumed = _store.Watch(new WatchRequest { Key = B("p/"), RangeEnd = B("p0"), StartRevision = last + 1 });
        await ReadAllTriples(resumed, last + 1, 16);
    }

    [Fact]
    public async Task Progress_notification_follows_every_earlier_event()
    {
        using var w = _store.Watch(new WatchRequest { Key = B("a") });
        Put("a", "1");
        Put("b", "1");
        Assert.True(w.RequestProgress());
        var first = await Next(w);
        Assert.Equal(2, first!.Events.Single().Kv.ModRevision);
        var progress = await Next(w);
        Assert.True(progress!.IsProgressNotify);
        Assert.Empty(progress.Events);
        Assert.Equal(3, progress.Revision);

        // An unsynced watcher cannot promise anything: no progress notification.
        using var behind = _store.Watch(new WatchRequest { Key = B("a"), StartRevision = 2 });
        Assert.False(behind.RequestProgress());
    }

    [Fact]
    public async Task A_requested_progress_notification_waits_until_the_watcher_caught_up()
    {
        Put("a", "1"); // 2
        Put("b", "1"); // 3
        Put("a", "2"); // 4
        using var w = _store.Watch(new WatchRequest { Key = B("a"), StartRevision = 2 });
        Assert.False(w.RequestProgress(deferUntilSynced: true));

        // The catch-up's events first, then the promise that nothing up to 4 is missing.
        var events = (await Next(w))!.Events;
        Assert.Equal([2L, 4L], events.Select(e => e.Kv.ModRevision));
        var progress = await Next(w);
        Assert.True(progress!.IsProgressNotify);
        Assert.Equal(4, progress.Revision);
    }

    [Fact]
    public async Task A_deferred_progress_notification_reaches_a_watcher_whose_catch_up_found_no_event()
    {
        // etcd-io/etcd#17557: a watcher from an old revision that matches nothing becomes synced
        // without any event, and must still answer the request.
        Put("b", "1"); // 2
        Put("c", "1"); // 3
        using var w = _store.Watch(new WatchRequest { Key = B("a"), StartRevision = 2 });
        Assert.False(w.RequestProgress(deferUntilSynced: true));
        var progress = await Next(w);
        Assert.True(progress!.IsProgressNotify);
        Assert.Equal(3, progress.Revision);

        // Without deferral (the periodic notification) an unsynced watcher gets nothing later.
        using var periodic = _store.Watch(new WatchRequest { Key = B("a"), StartRevision = 2 });
        Assert.False(periodic.RequestProgress());
        Put("a", "1"); // 4
        var only = await Next(periodic);
        Assert.False(only!.IsProgressNotify);
        Assert.Equal(4, only.Events.Single().Kv.ModRevision);
    }

    [Fact]
    public async Task A_watcher_from_a_future_revision_gets_no_progress_notification_before_its_start()
    {
        Put("a", "1"); // 2
        using var w = _store.Watch(new WatchRequest { Key = B("a"), StartRevision = 4 });
        Assert.False(w.RequestProgress());
        Put("b", "1"); // 3: now the next revision is its start
        Put("a", "2"); // 4
        var first = await Next(w);
        Assert.False(first!.IsProgressNotify);
        Assert.Equal(4, first.Events.Single().Kv.ModRevision);
        Assert.True(w.RequestProgress());
    }

    [Fact]
    public async Task A_deferred_progress_notification_of_a_watcher_with_a_full_queue_follows_its_queued_events()
    {
        using var w = _store.Watch(new WatchRequest { Key = B("a") });
        // Fill the queue (capacity 8 in these tests) without reading.
        for (var i = 0; i < 8; i++)
        {
            Put("a", $"{i}");
        }

        Assert.False(w.RequestProgress(deferUntilSynced: true));
        var revisions = new List<long>();
        WatchResponse? r;
        while (!(r = await Next(w))!.IsProgressNotify)
        {
            revisions.AddRange(r.Events.Select(e => e.Kv.ModRevision));
        }

        Assert.Equal(Enumerable.Range(2, 8).Select(i => (long)i), revisions);
        Assert.Equal(9, r.Revision);
    }

    [Fact]
    public async Task A_compacted_start_revision_cancels_with_the_compact_revision()
    {
        for (var i = 0; i < 10; i++)
        {
            Put("a", $"{i}");
        }

        _store.Compact(8);
        using var w = _store.Watch(new WatchRequest { Key = B("a"), StartRevision = 5 });
        var r = await Next(w);
        Assert.True(r!.Canceled);
        Assert.Equal(8, r.CompactRevision);
        Assert.Null(await Next(w));

        // From the compact revision itself everything is still there.
        using var ok = _store.Watch(new WatchRequest { Key = B("a"), StartRevision = 8 });
        var events = (await Next(ok))!.Events;
        Assert.Equal([8L, 9L, 10L, 11L], events.Select(e => e.Kv.ModRevision));
    }

    [Fact]
    public async Task A_hopelessly_slow_watcher_is_cancelled_once_compaction_passes_it()
    {
        using var slow = _store.Watch(new WatchRequest { Key = B("a") });
        for (var i = 0; i < 100; i++)
        {
            Put("a", $"{i}");
        }

        _store.Compact(90);
        var delivered = new List<long>();
        WatchResponse? r;
        while ((r = await Next(slow)) is { Canceled: false })
        {
            delivered.AddRange(r.Events.Select(e => e.Kv.ModRevision));
        }

        Assert.NotNull(r);
        Assert.Equal(90, r.CompactRevision);
        Assert.Equal(delivered.Count, delivered.Distinct().Count());
        Assert.True(delivered.Count <= 8, "only the bounded queue was delivered"); // queue capacity
    }

    [Fact]
    public async Task Filters_and_prev_kv_on_both_paths()
    {
        Put("a", "1"); // 2
        using var live = _store.Watch(new WatchRequest { Key = B("a"), NoPut = true, PrevKv = true });
        using var plain = _store.Watch(new WatchRequest { Key = B("a"), NoDelete = true });
        Put("a", "2"); // 3
        _store.DeleteRange(new DeleteRangeRequest { Key = B("a") }); // 4
        Put("a", "3"); // 5

        var del = (await Next(live))!;
        Assert.Equal("Delete:a:c0/m4/v0/l0/''<a:c2/m3/v2/l0/'2'>", Describe.Events(del));
        var puts = new List<string>();
        while (puts.Count < 2)
        {
            puts.Add(Describe.Events((await Next(plain))!));
        }

        Assert.Equal(["Put:a:c2/m3/v2/l0/'2'<->", "Put:a:c5/m5/v1/l0/'3'<->"], puts);

        // The same from the backend (catch-up path).
        using var history = _store.Watch(new WatchRequest { Key = B("a"), StartRevision = 2, PrevKv = true });
        Assert.Equal(
            "Put:a:c2/m2/v1/l0/'1'<-> Put:a:c2/m3/v2/l0/'2'<a:c2/m2/v1/l0/'1'> Delete:a:c0/m4/v0/l0/''<a:c2/m3/v2/l0/'2'> Put:a:c5/m5/v1/l0/'3'<->",
            Describe.Events((await Next(history))!));
    }

    [Fact]
    public async Task Cancellation_ends_the_stream()
    {
        var w = _store.Watch(new WatchRequest { Key = B("a") });
        var pending = w.ReadAsync().AsTask();
        w.Dispose();
        Assert.Null(await pending.WaitAsync(TimeSpan.FromSeconds(5)));
        Put("a", "1");
        Assert.Null(await Next(w));
    }
}
