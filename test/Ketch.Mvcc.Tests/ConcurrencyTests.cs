using Xunit;
using static Ketch.Mvcc.Tests.Stores;

namespace Ketch.Mvcc.Tests;

/// <summary>Writer, readers, watchers, compaction and a snapshot at the same time.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Concurrent_writers_readers_watchers_compaction_and_snapshot()
    {
        using var dir = new TempDir();
        using var store = KvStore.Open(Options(dir.Path, batchLimit: 100) with { BatchInterval = TimeSpan.FromMilliseconds(5) });
        const int Writes = 1_500;
        var lastRev = Writes + 1L;
        var watchers = Enumerable.Range(0, 4).Select(_ => store.Watch(new WatchRequest { Key = B("p/"), RangeEnd = B("p0") })).ToList();

        var writer = Task.Run(() =>
        {
            for (var i = 0; i < Writes; i++)
            {
                store.Txn(new TxnRequest
                {
                    Success =
                    [
                        new RequestOp { Put = new PutRequest { Key = B("p/a"), Value = B($"{i}") } },
                        new RequestOp { Put = new PutRequest { Key = B("p/b"), Value = B($"{i}") } },
                    ],
                });
                if (i == Writes / 2)
                {
                    store.Compact(store.CurrentRevision - 100);
                }
            }
        });

        var readers = Enumerable.Range(0, 2).Select(seed => Task.Run(() =>
        {
            var random = new Random(seed);
            while (!writer.IsCompleted)
            {
                var rev = store.CurrentRevision - random.Next(0, 50);
                try
                {
                    var r = store.Range(new RangeRequest { Key = B("p/"), RangeEnd = B("p0"), Revision = Math.Max(rev, 1) });
                    Assert.True(r.Kvs.Count == 0 || r.Kvs.Count == 2 && r.Kvs[0].ModRevision == r.Kvs[1].ModRevision, "a txn was seen half-applied");
                }
                catch (MvccException e) when (e.Error == MvccError.Compacted)
                {
                }
            }
        })).ToList();

        var snapshot = Task.Run(() =>
        {
            using var stream = new MemoryStream();
            store.Snapshot(stream);
            return stream.Length;
        });

        // Watcher i reads only every 2^i-th time the loop comes round: the later ones lag behind.
        var consumers = watchers.Select((w, i) => Task.Run(async () =>
        {
            long expected = 2;
            while (expected <= lastRev)
            {
                var r = await Next(w, 20_000) ?? throw new Xunit.Sdk.XunitException("ended");
                if (r.Canceled)
                {
                    Assert.True(r.CompactRevision > expected, "cancelled although not overtaken by compaction");
                    return;
                }

                foreach (var pair in r.Events.Chunk(2))
                {
                    Assert.Equal([expected, expected], pair.Select(e => e.Kv.ModRevision));
                    expected++;
                }

                for (var y = 0; y < (1 << i); y++)
                {
                    await Task.Yield();
                }
            }
        })).ToList();

        await writer.WaitAsync(TimeSpan.FromSeconds(60));
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(await snapshot.WaitAsync(TimeSpan.FromSeconds(60)) > 0);
        await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(lastRev, store.CurrentRevision);
    }
}
