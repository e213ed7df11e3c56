using Ketch.Mvcc.Backend;
using Xunit;
using static Ketch.Mvcc.Tests.Stores;

namespace Ketch.Mvcc.Tests;

public sealed class RestartTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Every revision's full state as text, from the compacted revision on.</summary>
    private static List<string> History(KvStore s)
    {
        var states = new List<string>();
        for (var rev = Math.Max(1, s.CompactRevision); rev <= s.CurrentRevision; rev++)
        {
            states.Add(Describe.Range(s.Range(new RangeRequest { Key = B("\0"), RangeEnd = B("\0"), Revision = rev })));
        }

        return states;
    }

    /// <summary>Applies Raft entry <paramref name="index"/>: one write plus the consistent index.</summary>
    private static void Apply(KvStore s, ulong index)
    {
        var key = B($"k{index % 7}");
        if (index % 5 == 0)
        {
            s.DeleteRange(new DeleteRangeRequest { Key = key });
        }
        else
        {
            s.Put(new PutRequest { Key = key, Value = B($"v{index}"), Lease = (long)(index % 3) });
        }

        s.SetConsistentIndex(index, 1 + (index / 20));
    }

    [Fact]
    public void Reopen_gives_identical_state_and_revision()
    {
        List<string> before;
        long rev;
        using (var s = KvStore.Open(Options(_dir.Path)))
        {
            for (ulong i = 1; i <= 60; i++)
            {
                Apply(s, i);
            }

            s.Compact(30);
            Apply(s, 61);
            before = History(s);
            rev = s.CurrentRevision;
        }

        using var reopened = KvStore.Open(Options(_dir.Path));
        Assert.Equal(rev, reopened.CurrentRevision);
        Assert.Equal(30, reopened.CompactRevision);
        Assert.Equal((61UL, 4UL), (reopened.ConsistentIndex, reopened.ConsistentTerm));
        Assert.Equal(before, History(reopened));

        // Writing after a restart continues versions and create revisions correctly.
        reopened.Put(new PutRequest { Key = B("k1"), Value = B("again") });
        var kv = reopened.Range(new RangeRequest { Key = B("k1") }).Kvs.Single();
        Assert.Equal(rev + 1, kv.ModRevision);
    }

    [Fact]
    public void The_leases_found_at_open_are_those_the_live_keys_carry()
    {
        // Puts with leases 0, 1, 2 over 7 keys, deletions, re-puts that change or drop the lease,
        // and a compaction that removes tombstones and older revisions.
        using (var s = KvStore.Open(Options(_dir.Path)))
        {
            for (ulong i = 1; i <= 60; i++)
            {
                Apply(s, i);
            }

            s.Compact(30);
            Apply(s, 61);
            Apply(s, 62);
        }

        using (var reopened = KvStore.Open(Options(_dir.Path)))
        {
            var expected = reopened.Range(new RangeRequest { Key = B("\0"), RangeEnd = B("\0") }).Kvs
                .Where(kv => kv.Lease != 0)
                .Select(kv => $"{System.Text.Encoding.UTF8.GetString(kv.Key)}={kv.Lease}")
                .Order(StringComparer.Ordinal);
            var recovered = reopened.TakeRecoveredLeases();
            Assert.NotNull(recovered);
            Assert.Equal(expected, recovered
                .Select(p => $"{System.Text.Encoding.UTF8.GetString(p.Key)}={p.Value}")
                .Order(StringComparer.Ordinal));
            Assert.Contains("=2", string.Join(",", expected)); // the history did leave leased keys
            Assert.Null(reopened.TakeRecoveredLeases()); // handed out once
        }

        // Once a write happened the map no longer describes the store: the caller must range.
        using var again = KvStore.Open(Options(_dir.Path));
        again.Put(new PutRequest { Key = B("k1"), Value = B("x"), Lease = 9 });
        Assert.Null(again.TakeRecoveredLeases());
    }

    [Fact]
    public void A_crash_mid_batch_comes_back_at_a_consistent_index()
    {
        List<string> atThirty;
        using (var reference = KvStore.Open(Options(_dir.Sub("reference"), batchLimit: 1_000)))
        {
            for (ulong i = 1; i <= 30; i++)
            {
                Apply(reference, i);
            }

            atThirty = History(reference);
        }

        var s = KvStore.Open(Options(_dir.Sub("crashing"), batchLimit: 1_000));
        for (ulong i = 1; i <= 50; i++)
        {
            Apply(s, i);
            if (i == 30)
            {
                s.Commit();
            }
        }

        s.Crash(); // entries 31..50 were only in the pending batch

        var recovered = KvStore.Open(Options(_dir.Sub("crashing"), batchLimit: 1_000));
        Assert.Equal(30UL, recovered.ConsistentIndex);
        Assert.Equal(atThirty, History(recovered));

        // Replaying the log from the consistent index gives the uncrashed store.
        for (var i = recovered.ConsistentIndex + 1; i <= 50; i++)
        {
            Apply(recovered, i);
        }

        using var uncrashed = KvStore.Open(Options(_dir.Sub("uncrashed"), batchLimit: 1_000));
        for (ulong i = 1; i <= 50; i++)
        {
            Apply(uncrashed, i);
        }

        Assert.Equal(History(uncrashed), History(recovered));
        recovered.Dispose();
    }

    /// <summary>Applies entry <paramref name="index"/> as the server does: two writes and the index
    /// in one apply scope.</summary>
    private static void ApplyScoped(KvStore s, ulong index, bool crashBeforeIndex = false)
    {
        using (s.BeginApply())
        {
            s.Put(new PutRequest { Key = B($"a{index % 5}"), Value = B($"v{index}") });
            s.Put(new PutRequest { Key = B($"b{index % 3}"), Value = B($"w{index}") });
            if (crashBeforeIndex)
            {
                s.Crash();
                return;
            }
            s.SetConsistentIndex(index, 1);
        }
    }

    [Fact]
    public void A_commit_never_splits_an_entry_from_its_consistent_index()
    {
        // A batch limit of 1 asks for a commit after every write; inside an entry it must wait for
        // the entry's end, or a crash leaves the entry's first write under the previous index and
        // replaying the entry writes it a second time (a revision the other members never made).
        var s = KvStore.Open(Options(_dir.Sub("crashing"), batchLimit: 1));
        for (ulong i = 1; i <= 9; i++)
        {
            ApplyScoped(s, i);
        }
        ApplyScoped(s, 10, crashBeforeIndex: true);

        var recovered = KvStore.Open(Options(_dir.Sub("crashing"), batchLimit: 1));
        Assert.Equal(9UL, recovered.ConsistentIndex);
        for (var i = recovered.ConsistentIndex + 1; i <= 20; i++)
        {
            ApplyScoped(recovered, i);
        }

        using var uncrashed = KvStore.Open(Options(_dir.Sub("uncrashed"), batchLimit: 1));
        for (ulong i = 1; i <= 20; i++)
        {
            ApplyScoped(uncrashed, i);
        }

        Assert.Equal(uncrashed.CurrentRevision, recovered.CurrentRevision);
        Assert.Equal(History(uncrashed), History(recovered));
        recovered.Dispose();
    }

    [Fact]
    public void The_consistent_index_is_written_with_the_batch_that_ends_the_entry()
    {
        using (var s = KvStore.Open(Options(_dir.Path, batchLimit: 1_000)))
        {
            ApplyScoped(s, 1);
            ApplyScoped(s, 2);
            s.Commit();
            ApplyScoped(s, 3);
            s.Crash(); // entry 3 was only pending
        }

        using var reopened = KvStore.Open(Options(_dir.Path, batchLimit: 1_000));
        Assert.Equal(2UL, reopened.ConsistentIndex);
        Assert.Equal(5L, reopened.CurrentRevision); // 1 + two puts for each of entries 1 and 2
    }

    [Fact]
    public void Snapshot_restores_an_identical_store()
    {
        var stream = new MemoryStream();
        List<string> before;
        using (var s = KvStore.Open(Options(_dir.Sub("source"))))
        {
            for (ulong i = 1; i <= 40; i++)
            {
                Apply(s, i);
            }

            s.Compact(20);
            s.PutBucketValue(BackendBucket.Members, B("m1"), B("http://127.0.0.11:2380"));
            Apply(s, 41); // still pending when the snapshot starts: it must be included
            s.Snapshot(stream);
            before = History(s);
            Apply(s, 42); // after the snapshot: must not be included
        }

        stream.Position = 0;
        using var restored = KvStore.Restore(stream, Options(_dir.Sub("restored")));
        Assert.Equal(41UL, restored.ConsistentIndex);
        Assert.Equal(20, restored.CompactRevision);
        Assert.Equal(before, History(restored));
        Assert.Equal("http://127.0.0.11:2380", S(restored.GetBucketValue(BackendBucket.Members, B("m1"))!));
    }

    /// <summary>The snapshot stream of a store with ten applied entries.</summary>
    private byte[] SnapshotOfTenEntries()
    {
        var stream = new MemoryStream();
        using (var s = KvStore.Open(Options(_dir.Sub("source"))))
        {
            for (ulong i = 1; i <= 10; i++)
            {
                Apply(s, i);
            }

            s.Snapshot(stream);
        }

        return stream.ToArray();
    }

    [Fact]
    public void A_corrupt_snapshot_is_refused_and_leaves_nothing_behind()
    {
        var bytes = SnapshotOfTenEntries();
        bytes[bytes.Length / 2] ^= 0x40;
        var target = _dir.Sub("restored");
        Assert.Throws<InvalidDataException>(() => KvStore.Restore(new MemoryStream(bytes), Options(target)));
        Assert.False(Directory.Exists(target));
        Assert.Throws<InvalidDataException>(() => KvStore.Restore(new MemoryStream(bytes[..^40]), Options(target)));
    }

    [Fact]
    public void A_snapshot_stream_is_verified_whole_without_a_store()
    {
        var bytes = SnapshotOfTenEntries();
        KvStore.VerifySnapshot(new MemoryStream(bytes));
        // Cut anywhere (a sender that died mid-stream) or with a bit flipped: refused.
        for (var cut = 0; cut < bytes.Length; cut += Math.Max(1, bytes.Length / 97))
        {
            Assert.Throws<InvalidDataException>(() => KvStore.VerifySnapshot(new MemoryStream(bytes[..cut])));
        }
        Assert.Throws<InvalidDataException>(() => KvStore.VerifySnapshot(new MemoryStream(bytes[..^1])));
        var flipped = (byte[])bytes.Clone();
        flipped[flipped.Length / 3] ^= 0x01;
        Assert.Throws<InvalidDataException>(() => KvStore.VerifySnapshot(new MemoryStream(flipped)));
    }

    [Fact]
    public void An_interrupted_compaction_is_finished_at_the_next_open()
    {
        var s = KvStore.Open(Options(_dir.Path));
        for (ulong i = 1; i <= 40; i++)
        {
            Apply(s, i);
        }

        var atTwenty = s.Range(new RangeRequest { Key = B("\0"), RangeEnd = B("\0"), Revision = 20 });

        // What Compact records first, then a crash before any backend entry was deleted.
        var v = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(v, 20);
        s.Backend.PutBucket(BackendBucket.Meta, B("scheduled_compact_rev"), v);
        s.Commit();
        s.Crash();

        using var reopened = KvStore.Open(Options(_dir.Path));
        Assert.Equal(20, reopened.CompactRevision);
        Assert.Equal(MvccError.Compacted, Assert.Throws<MvccException>(() => reopened.Range(new RangeRequest { Key = B("k1"), Revision = 19 })).Error);
        Assert.Equal(Describe.Range(atTwenty), Describe.Range(reopened.Range(new RangeRequest { Key = B("\0"), RangeEnd = B("\0"), Revision = 20 })));
        var below = reopened.Backend.CommittedRevisionsBelow(new Revision(0, 0), 20, 1_000);
        Assert.True(below.Count <= 7, $"{below.Count} revisions left below 20"); // at most one per key k0..k6
        Assert.Equal(MvccError.Compacted, Assert.Throws<MvccException>(() => reopened.Compact(20)).Error);
    }
}
