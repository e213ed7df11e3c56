using Xunit;
using static Ketch.Mvcc.Tests.Stores;

namespace Ketch.Mvcc.Tests;

/// <summary>The store's counters, which a member exports as etcd's mvcc series. The transaction
/// cases were measured on etcd 3.4.23 (etcdctl txn, then /metrics): a compare reads like a range, and
/// a txn is counted per store transaction that ran more than one operation.</summary>
public sealed class KvStoreStatsTests : IDisposable
{
    private readonly TempDir _dir = new();
    private KvStore _store;

    public KvStoreStatsTests() => _store = KvStore.Open(Options(_dir.Path));

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private (long Ranges, long Puts, long Deletes, long Txns) Counts() =>
        (_store.Stats.Ranges, _store.Stats.Puts, _store.Stats.Deletes, _store.Stats.Txns);

    private static RequestOp PutOp(string k) => new() { Put = new PutRequest { Key = B(k), Value = B("y") } };

    private static RequestOp GetOp(string k) => new() { Range = new RangeRequest { Key = B(k) } };

    private static Compare ValueIs(string k, string v) => new() { Key = B(k), Target = CompareTarget.Value, Result = CompareResult.Equal, Value = B(v) };

    [Fact]
    public void Operations_count_as_etcd_counts_them()
    {
        _store.Put(new PutRequest { Key = B("w"), Value = B("1234567890") });
        Assert.Equal((0, 1, 0, 0), Counts());
        Assert.Equal(11, _store.Stats.PutBytes); // key and value bytes

        // A compare that holds, then a put and a get: the compare's read is a range; a txn.
        _store.Txn(new TxnRequest { Compares = [ValueIs("w", "1234567890")], Success = [PutOp("x"), GetOp("w")] });
        Assert.Equal((2, 2, 0, 1), Counts());

        // A compare that fails, and a get in the failure branch: it may write, but ran one operation.
        _store.Txn(new TxnRequest { Compares = [ValueIs("w", "nope")], Success = [PutOp("x")], Failure = [GetOp("w")] });
        Assert.Equal((4, 2, 0, 1), Counts());

        // One put alone is no txn; three are one.
        _store.Txn(new TxnRequest { Success = [PutOp("x")] });
        Assert.Equal((4, 3, 0, 1), Counts());
        _store.Txn(new TxnRequest { Success = [PutOp("x1"), PutOp("x2"), PutOp("x3")] });
        Assert.Equal((4, 6, 0, 2), Counts());

        // A read-only transaction counts when it ran more than one operation, compares included.
        _store.Txn(new TxnRequest { Success = [GetOp("x1"), GetOp("x2")] });
        Assert.Equal((6, 6, 0, 3), Counts());
        _store.Txn(new TxnRequest { Success = [GetOp("x1")] });
        Assert.Equal((7, 6, 0, 3), Counts());
        _store.Txn(new TxnRequest { Compares = [ValueIs("w", "1234567890")], Success = [GetOp("x1")] });
        Assert.Equal((9, 6, 0, 4), Counts());

        // A transaction that may write reads its compares apart from its operations: two compares
        // are a txn of their own, even when one operation follows.
        _store.Txn(new TxnRequest { Compares = [ValueIs("w", "1234567890"), ValueIs("x", "y")], Success = [PutOp("x")] });
        Assert.Equal((11, 7, 0, 5), Counts());

        // A delete counts once per operation, whatever it deleted.
        _store.DeleteRange(new DeleteRangeRequest { Key = B("x"), RangeEnd = B("y") });
        _store.DeleteRange(new DeleteRangeRequest { Key = B("nothing") });
        Assert.Equal((11, 7, 2, 5), Counts());
        _store.Range(new RangeRequest { Key = B("w") });
        Assert.Equal((12, 7, 2, 5), Counts());
    }

    [Fact]
    public void Live_keys_follow_puts_and_deletes_and_are_recounted_at_open()
    {
        Assert.Equal(0, _store.LiveKeys);
        foreach (var k in new[] { "a", "b", "c", "a" })
        {
            _store.Put(new PutRequest { Key = B(k), Value = B("v") });
        }
        Assert.Equal(3, _store.LiveKeys); // "a" twice is one key
        _store.DeleteRange(new DeleteRangeRequest { Key = B("b") });
        _store.DeleteRange(new DeleteRangeRequest { Key = B("b") }); // already gone
        Assert.Equal(2, _store.LiveKeys);
        _store.Put(new PutRequest { Key = B("b"), Value = B("again") });
        _store.DeleteRange(new DeleteRangeRequest { Key = B("c") });
        Assert.Equal(2, _store.LiveKeys);

        _store.Dispose();
        _store = KvStore.Open(Options(_dir.Path));
        Assert.Equal(2, _store.LiveKeys);
        Assert.Equal(0, _store.Stats.Puts); // counters start again with the process, as etcd's
    }

    [Fact]
    public void Compaction_reports_its_revisions_and_phases_and_the_revision_is_minus_one_before()
    {
        Assert.Equal(-1, _store.LastCompaction);
        var phases = new List<CompactionPhase>();
        _store.CompactionObserver = (phase, _) => phases.Add(phase);
        for (var i = 0; i < 5; i++)
        {
            _store.Put(new PutRequest { Key = B("k"), Value = B($"{i}") });
        }
        _store.Commit();
        _store.Compact(_store.CurrentRevision);
        Assert.Equal(_store.CurrentRevision, _store.LastCompaction);
        Assert.Equal(4, _store.Stats.CompactedRevisions); // the four older versions of "k"
        // One partial chunk: no pause of a full chunk, one index pause, one total.
        Assert.Equal([CompactionPhase.IndexPause, CompactionPhase.Total], phases);
    }

    [Fact]
    public async Task Watchers_and_their_delivered_and_pending_events_are_counted()
    {
        using var w = _store.Watch(new WatchRequest { Key = B("w") });
        Assert.Equal((1, 0, 0L), _store.WatcherCounts());
        _store.Put(new PutRequest { Key = B("w"), Value = B("1") });
        _store.Put(new PutRequest { Key = B("w"), Value = B("2") });
        Assert.Equal((1, 0, 2L), _store.WatcherCounts()); // queued, not yet read
        Assert.Equal(0, _store.Stats.EventsDelivered);

        var first = await w.ReadAsync();
        Assert.Single(first!.Events);
        Assert.Equal(1, _store.Stats.EventsDelivered);
        Assert.Equal((1, 0, 1L), _store.WatcherCounts());
        await w.ReadAsync();
        Assert.Equal(2, _store.Stats.EventsDelivered);

        w.Dispose();
        Assert.Equal((0, 0, 0L), _store.WatcherCounts());
    }
}
