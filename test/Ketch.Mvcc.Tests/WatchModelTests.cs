using CsCheck;
using Xunit;
using static Ketch.Mvcc.Tests.Stores;

namespace Ketch.Mvcc.Tests;

/// <summary>
/// Random histories with a watcher that starts at a random revision and reads at random moments
/// through a tiny queue, so it keeps falling from synced to unsynced and back. Every revision's
/// events must arrive whole, in order, once, and equal the model's difference between the states
/// before and after that revision.
/// </summary>
public sealed class WatchModelTests
{
    private static readonly Gen<ModelBasedTests.Op> GDeleteClosed =
        Gen.Select(Gen.OneOfConst(ModelBasedTests.Keys), Gen.OneOfConst<string?>(null, null, "b", "c", "d", "e"), Gen.Bool)
            .Select((k, e, p) => (ModelBasedTests.Op)new ModelBasedTests.DeleteOp(k, e, p));

    // No "\0"-ended deletes in a txn: etcd lets them overlap a put of the same txn, and then the
    // state difference no longer shows both events.
    private static readonly Gen<ModelBasedTests.Op> GTxn =
        Gen.Select(ModelBasedTests.GCompare.Array[0, 2],
                Gen.OneOf(ModelBasedTests.GPut, GDeleteClosed, ModelBasedTests.GRange).Array[0, 3],
                Gen.OneOf(ModelBasedTests.GPut, GDeleteClosed, ModelBasedTests.GRange).Array[0, 3])
            .Select((c, s, f) => (ModelBasedTests.Op)new ModelBasedTests.TxnOp(c, s, f));

    private static readonly Gen<(ModelBasedTests.Op Op, int Reads)> GStep =
        Gen.Select(Gen.Frequency((5, ModelBasedTests.GPut), (2, ModelBasedTests.GDelete), (3, GTxn)), Gen.Int[0, 9])
            .Select((op, r) => (op, r < 6 ? 0 : r - 5));

    [Fact]
    public void Watchers_see_every_revision_whole_in_order_once()
    {
        Gen.Select(GStep.Array[1, 60], Gen.Int[0, 20], Gen.Int[0, 10], Gen.OneOfConst(ModelBasedTests.Keys), Gen.OneOfConst<string?>(null, "\0", "c", "e"), Gen.Bool)
            .Sample((steps, start, createAt, key, end, prevKv) =>
        {
            using var dir = new TempDir();
            using var store = KvStore.Open(Options(dir.Path) with { WatchQueueCapacity = 2, MaxEventsPerWatchResponse = 3 });
            var model = new Model();
            var watcherCreatedAt = Math.Min(steps.Length, createAt);
            long firstRev = start;
            Watcher? w = null;
            var seen = new List<WatchResponse>();
            for (var i = 0; i < steps.Length; i++)
            {
                if (i == watcherCreatedAt)
                {
                    firstRev = start == 0 ? store.CurrentRevision + 1 : start;
                    w = store.Watch(new WatchRequest { Key = B(key), RangeEnd = end is null ? null : B(end), StartRevision = start, PrevKv = prevKv });
                }

                ModelBasedTests.Run(() => steps[i].Op.On(model, model.Current));
                ModelBasedTests.Run(() => steps[i].Op.On(store, store.CurrentRevision));
                for (var r = 0; r < steps[i].Reads && w is not null; r++)
                {
                    if (TryRead(w) is { } resp)
                    {
                        seen.Add(resp);
                    }
                }
            }

            if (w is null)
            {
                firstRev = start == 0 ? store.CurrentRevision + 1 : start;
            }

            w ??= store.Watch(new WatchRequest { Key = B(key), RangeEnd = end is null ? null : B(end), StartRevision = start, PrevKv = prevKv });
            while (TryRead(w) is { } resp)
            {
                seen.Add(resp);
            }

            w.Dispose();
            Check(model, seen, firstRev, key, end, prevKv);
        }, iter: 150, threads: 1);
    }

    /// <summary>A read that never waits: null when nothing is available (the watcher is synced and drained).</summary>
    private static WatchResponse? TryRead(Watcher w)
    {
        try
        {
            var read = w.ReadAsync(new CancellationToken(canceled: true));
            return read.IsCompleted ? read.Result : read.AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private static void Check(Model model, List<WatchResponse> seen, long firstRev, string key, string? end, bool prevKv)
    {
        var byRevision = new Dictionary<long, List<string>>();
        long last = 0;
        foreach (var r in seen)
        {
            Assert.False(r.Canceled);
            var revisions = r.Events.Select(e => e.Kv.ModRevision).Distinct().ToList();
            foreach (var rev in revisions)
            {
                Assert.True(rev > last, $"revision {rev} after {last}: out of order or repeated");
                last = rev;
                byRevision[rev] = [.. r.Events.Where(e => e.Kv.ModRevision == rev).Select(e => Describe.Events(new WatchResponse { Events = [e] })).Order()];
            }
        }

        // The model's expectation, revision by revision (the watcher start is a txn boundary, so
        // firstRev may lie beyond the revisions that exist: then nothing is expected).
        for (var rev = Math.Max(2, firstRev); rev <= model.Current; rev++)
        {
            var before = model.At(rev - 1);
            var after = model.At(rev);
            var expected = new List<string>();
            foreach (var k in before.Keys.Union(after.Keys))
            {
                if (!Model.InRange(k, key, end))
                {
                    continue;
                }

                var prev = before.GetValueOrDefault(k);
                var now = after.GetValueOrDefault(k);
                var p = prevKv ? prev : null;
                if (now is not null && now.ModRevision == rev)
                {
                    expected.Add(Describe.Events(new WatchResponse { Events = [new WatchEvent { Type = WatchEventType.Put, Kv = now, PrevKv = p }] }));
                }
                else if (now is null && prev is not null)
                {
                    var tomb = new KeyValue { Key = B(k), ModRevision = rev };
                    expected.Add(Describe.Events(new WatchResponse { Events = [new WatchEvent { Type = WatchEventType.Delete, Kv = tomb, PrevKv = p }] }));
                }
            }

            expected.Sort(StringComparer.Ordinal);
            var actual = byRevision.GetValueOrDefault(rev) ?? [];
            actual.Sort(StringComparer.Ordinal);
            Assert.True(expected.SequenceEqual(actual), $"revision {rev}: expected [{string.Join(", ", expected)}] got [{string.Join(", ", actual)}]");
        }

        Assert.DoesNotContain(byRevision.Keys, rev => rev < firstRev || rev > model.Current);
    }
}
