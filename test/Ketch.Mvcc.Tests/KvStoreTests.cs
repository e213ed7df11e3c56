using Ketch.Mvcc.Backend;
using Xunit;
using static Ketch.Mvcc.Tests.Stores;

namespace Ketch.Mvcc.Tests;

public sealed class KvStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly KvStore _store;

    public KvStoreTests() => _store = KvStore.Open(Options(_dir.Path));

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private PutResponse Put(string k, string v, long lease = 0) => _store.Put(new PutRequest { Key = B(k), Value = B(v), Lease = lease });

    private RangeResponse Get(string k, string? end = null, long rev = 0) =>
        _store.Range(new RangeRequest { Key = B(k), RangeEnd = end is null ? null : B(end), Revision = rev });

    private static RequestOp PutOp(string k, string v = "v") => new() { Put = new PutRequest { Key = B(k), Value = B(v) } };

    private static RequestOp DelOp(string k, string? end = null) => new() { DeleteRange = new DeleteRangeRequest { Key = B(k), RangeEnd = end is null ? null : B(end) } };

    [Fact]
    public void Empty_store_is_at_revision_one_and_each_write_takes_one_revision()
    {
        Assert.Equal(1, _store.CurrentRevision);
        Assert.Equal(1, Get("a").Revision);
        Assert.Equal(2, Put("a", "1").Revision);
        Assert.Equal(3, Put("a", "2").Revision);
        var kv = Assert.Single(Get("a").Kvs);
        Assert.Equal((2L, 3L, 2L), (kv.CreateRevision, kv.ModRevision, kv.Version));
        Assert.Equal("1", S(Assert.Single(Get("a", rev: 2).Kvs).Value));
    }

    [Fact]
    public void Writes_that_change_nothing_do_not_advance_the_revision()
    {
        Put("a", "1");
        var del = _store.DeleteRange(new DeleteRangeRequest { Key = B("zz") });
        Assert.Equal((0L, 2L), (del.Deleted, del.Revision));
        var txn = _store.Txn(new TxnRequest { Success = [new RequestOp { Range = new RangeRequest { Key = B("a") } }] });
        Assert.Equal(2, txn.Revision);
        Assert.Equal(2, _store.CurrentRevision);
    }

    [Fact]
    public void Delete_range_takes_one_revision_for_all_keys()
    {
        Put("a", "1");
        Put("b", "2");
        Put("c", "3");
        var del = _store.DeleteRange(new DeleteRangeRequest { Key = B("a"), RangeEnd = B("c"), PrevKv = true });
        Assert.Equal(2, del.Deleted);
        Assert.Equal(5, del.Revision);
        Assert.Equal(["a", "b"], del.PrevKvs.Select(kv => S(kv.Key)));
        Assert.Equal(1, Get("\0", "\0").Count);
    }

    [Fact]
    public void Duplicate_keys_in_a_txn_are_refused_with_etcds_text()
    {
        void Refused(TxnRequest t)
        {
            var e = Assert.Throws<MvccException>(() => _store.Txn(t));
            Assert.Equal("etcdserver: duplicate key given in txn request", e.Message);
        }

        Refused(new TxnRequest { Success = [PutOp("a"), PutOp("a")] });
        Refused(new TxnRequest { Failure = [DelOp("a", "c"), PutOp("b")] });
        Refused(new TxnRequest { Success = [PutOp("a"), new RequestOp { Txn = new TxnRequest { Success = [PutOp("a")] } }] });
        Refused(new TxnRequest { Success = [DelOp("a"), new RequestOp { Txn = new TxnRequest { Failure = [PutOp("a")] } }] });
        Assert.Equal(1, _store.CurrentRevision);

        // The two branches of a nested txn are exclusive; deletes may overlap each other.
        var ok = _store.Txn(new TxnRequest
        {
            Success = [new RequestOp { Txn = new TxnRequest { Success = [PutOp("a")], Failure = [PutOp("a")] } }, DelOp("b", "d"), DelOp("c")],
        });
        Assert.Equal(2, ok.Revision);
    }

    [Fact]
    public void Txn_is_one_revision_and_reads_see_earlier_writes()
    {
        Put("a", "1");
        var t = _store.Txn(new TxnRequest
        {
            Compares = [new Compare { Key = B("a"), Target = CompareTarget.Value, Result = CompareResult.Equal, Value = B("1") }],
            Success =
            [
                PutOp("a", "2"),
                PutOp("b", "3"),
                new RequestOp { Range = new RangeRequest { Key = B("a"), RangeEnd = B("c") } },
                new RequestOp
                {
                    Txn = new TxnRequest
                    {
                        // Nested compares see the state before the outer txn, as etcd: a is still "1".
                        Compares = [new Compare { Key = B("a"), Target = CompareTarget.Value, Result = CompareResult.Equal, Value = B("1") }],
                        Success = [PutOp("c", "nested")],
                    },
                },
            ],
        });
        Assert.True(t.Succeeded);
        Assert.Equal(3, t.Revision);
        var range = t.Responses[2].Range!;
        Assert.Equal(["2", "3"], range.Kvs.Select(kv => S(kv.Value)));
        Assert.Equal([3L, 3L], range.Kvs.Select(kv => kv.ModRevision));
        Assert.True(t.Responses[3].Txn!.Succeeded);
        Assert.Equal("nested", S(Assert.Single(Get("c").Kvs).Value));
    }

    [Fact]
    public void Compare_on_a_missing_key_uses_zeros_and_value_compare_fails()
    {
        var t1 = _store.Txn(new TxnRequest { Compares = [new Compare { Key = B("x"), Target = CompareTarget.Version, Result = CompareResult.Equal, Number = 0 }] });
        Assert.True(t1.Succeeded);
        var t2 = _store.Txn(new TxnRequest { Compares = [new Compare { Key = B("x"), Target = CompareTarget.Value, Result = CompareResult.NotEqual, Value = B("q") }] });
        Assert.False(t2.Succeeded);
    }

    [Fact]
    public void Revision_errors_carry_etcds_texts()
    {
        Put("a", "1");
        Put("a", "2");
        Put("a", "3");
        Assert.Equal("etcdserver: mvcc: required revision is a future revision", Assert.Throws<MvccException>(() => Get("a", rev: 5)).Message);
        _store.Compact(3);
        Assert.Equal("etcdserver: mvcc: required revision has been compacted", Assert.Throws<MvccException>(() => Get("a", rev: 2)).Message);
        Assert.Equal("2", S(Assert.Single(Get("a", rev: 3).Kvs).Value));
        Assert.Equal(MvccError.Compacted, Assert.Throws<MvccException>(() => _store.Compact(3)).Error);
        Assert.Equal(MvccError.FutureRevision, Assert.Throws<MvccException>(() => _store.Compact(9)).Error);
        Assert.Equal(MvccError.Compacted, Assert.Throws<MvccException>(() => _store.Txn(new TxnRequest
        {
            Success = [new RequestOp { Range = new RangeRequest { Key = B("a"), Revision = 1 } }],
        })).Error);
    }

    [Fact]
    public void Ignore_value_and_ignore_lease_keep_the_current_ones()
    {
        Assert.Equal(MvccError.KeyNotFound, Assert.Throws<MvccException>(() => _store.Put(new PutRequest { Key = B("a"), IgnoreValue = true })).Error);
        Assert.Equal("etcdserver: value is provided", Assert.Throws<MvccException>(() => _store.Put(new PutRequest { Key = B("a"), Value = B("v"), IgnoreValue = true })).Message);
        Assert.Equal("etcdserver: lease is provided", Assert.Throws<MvccException>(() => _store.Put(new PutRequest { Key = B("a"), Lease = 5, IgnoreLease = true })).Message);
        Put("a", "v", lease: 7);
        _store.Put(new PutRequest { Key = B("a"), IgnoreValue = true, Lease = 8 });
        _store.Put(new PutRequest { Key = B("a"), Value = B("w"), IgnoreLease = true });
        var kv = Assert.Single(Get("a").Kvs);
        Assert.Equal(("w", 8L, 3L), (S(kv.Value), kv.Lease, kv.Version));
    }

    [Fact]
    public void Compaction_keeps_the_latest_version_and_deletes_the_rest_from_the_backend()
    {
        Put("a", "1"); // 2
        Put("a", "2"); // 3
        Put("b", "1"); // 4
        _store.DeleteRange(new DeleteRangeRequest { Key = B("b") }); // 5
        Put("a", "3"); // 6
        _store.Compact(5);
        var below = _store.Backend.CommittedRevisionsBelow(new Revision(0, 0), 5, 100);
        Assert.Equal([new Revision(3, 0)], below); // a@3 is all that is needed below 5
        var at5 = Get("\0", "\0", rev: 5);
        Assert.Equal(["a:c2/m3/v2/l0/'2'"], at5.Kvs.Select(Describe.Kv));
        var latest = Get("a");
        Assert.Equal("a:c2/m6/v3/l0/'3'", Describe.Kv(latest.Kvs[0]));
    }

    [Fact]
    public void Large_ranges_count_everything_but_return_the_page()
    {
        for (var i = 0; i < 3_000; i++)
        {
            Put($"k{i:D5}", $"v{i}");
        }

        var page = _store.Range(new RangeRequest { Key = B("k"), RangeEnd = B("l"), Limit = 10 });
        Assert.Equal((3_000L, true, 10), (page.Count, page.More, page.Kvs.Count));
        Assert.Equal("k00000", S(page.Kvs[0].Key));

        var top = _store.Range(new RangeRequest { Key = B("k"), RangeEnd = B("l"), Limit = 3, SortOrder = SortOrder.Descend, SortTarget = SortTarget.Mod, KeysOnly = true });
        Assert.Equal(["k02999", "k02998", "k02997"], top.Kvs.Select(kv => S(kv.Key)));
        Assert.All(top.Kvs, kv => Assert.Empty(kv.Value));
        Assert.True(top.More);

        var counted = _store.Range(new RangeRequest { Key = B("k"), RangeEnd = B("l"), CountOnly = true });
        Assert.Equal(3_000, counted.Count);
        Assert.Empty(counted.Kvs);
    }

    [Fact]
    public void Buckets_consistent_index_and_sizes()
    {
        _store.SetConsistentIndex(42, 3);
        _store.PutBucketValue(BackendBucket.Lease, B("l1"), B("ttl=5"));
        _store.PutBucketValue(BackendBucket.Lease, B("l2"), B("ttl=6"));
        _store.DeleteBucketValue(BackendBucket.Lease, B("l2"));
        Assert.Equal("ttl=5", S(_store.GetBucketValue(BackendBucket.Lease, B("l1"))!));
        Assert.Equal(["l1"], _store.ReadBucket(BackendBucket.Lease).Select(p => S(p.Key)));
        Assert.Throws<ArgumentException>(() => _store.PutBucketValue(BackendBucket.Meta, B("x"), B("y")));
        Put("a", new string('x', 10_000));
        _store.Commit();
        Assert.True(_store.DbSizeBytes >= 10_000, $"size {_store.DbSizeBytes}");
        Assert.True(_store.DbSizeInUseBytes > 0);
        Assert.Equal((42UL, 3UL), (_store.ConsistentIndex, _store.ConsistentTerm));
    }

    [Fact]
    public async Task The_batch_timer_commits_pending_writes()
    {
        using var dir = new TempDir();
        using var store = KvStore.Open(new KvStoreOptions { Directory = dir.Path, BatchInterval = TimeSpan.FromMilliseconds(20) });
        store.Put(new PutRequest { Key = B("a"), Value = B("1") });
        Assert.Equal(1, store.Backend.PendingOps); // read-your-writes before the commit
        Assert.Single(store.Range(new RangeRequest { Key = B("a") }).Kvs);
        await WaitUntil(() => store.Backend.PendingOps == 0, TimeSpan.FromSeconds(10), "the batch timer");
    }
}
