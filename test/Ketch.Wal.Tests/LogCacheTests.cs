using Ketch.Raft;
using Ketch.Raft.Storage;
using Xunit;

namespace Ketch.Wal.Tests;

/// <summary>
/// The packed log cache against the reference MemoryStorage: the same random appends (with
/// conflicting suffixes, some reaching back past the compaction point), compactions, snapshots
/// created and snapshots applied must leave both answering every read the same; payloads handed out
/// are copies that later appends into reused slabs do not change.
/// </summary>
public sealed class LogCacheTests
{
    private static readonly ConfState s_conf = ConfState.Of([1UL, 2UL, 3UL]);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Random_appends_truncations_and_compactions_read_as_the_reference_storage(int seed)
    {
        var random = new Random(seed);
        var cache = new LogCache(s_conf);
        var reference = MemoryStorage.WithMembers([1UL, 2UL, 3UL]);
        ulong term = 1;
        for (var step = 0; step < 1_500; step++)
        {
            var last = reference.LastIndex();
            var first = reference.FirstIndex();
            switch (random.Next(10))
            {
                case < 6:
                    {
                        // Append a run, sometimes overwriting a suffix (a new leader's entries).
                        var from = last + 1;
                        if (last >= first && random.Next(4) == 0)
                        {
                            // Sometimes from before the compaction point: that part is ignored.
                            from = (ulong)random.NextInt64(Math.Max(1, (long)first - 5), (long)last + 1);
                            term++;
                        }
                        var run = new Entry[random.Next(1, 40)];
                        for (var i = 0; i < run.Length; i++)
                        {
                            // Mostly small payloads, sometimes empty, now and then past a quarter slab.
                            var size = random.Next(20) == 0 ? random.Next(300_000, 400_000) : random.Next(0, 600);
                            var data = new byte[size];
                            random.NextBytes(data);
                            run[i] = new Entry(term, from + (ulong)i, random.Next(8) == 0 ? EntryType.ConfChange : EntryType.Normal, data);
                        }
                        cache.Append(run);
                        reference.Append((ReadOnlyMemory<Entry>)run);
                        break;
                    }
                case < 8 when last >= first:
                    {
                        var at = (ulong)random.NextInt64((long)first, (long)last + 1);
                        Assert.Equal(reference.Compact(at), cache.Compact(at));
                        break;
                    }
                case 8 when last >= first:
                    {
                        // A snapshot of the applied state (also at or before the compaction point).
                        var at = (ulong)random.NextInt64((long)first - 1, (long)last + 1);
                        Assert.Equal(reference.CreateSnapshot(at, null, default).Error, cache.CreateSnapshot(at, null, default).Error);
                        break;
                    }
                case 9 when random.Next(3) == 0:
                    {
                        // A snapshot from the leader replaces everything (sometimes an outdated one).
                        var index = (ulong)Math.Max(0, (long)last + random.Next(-20, 50));
                        var snapshot = new Snapshot(ReadOnlyMemory<byte>.Empty, new SnapshotMetadata(index, ++term, s_conf));
                        Assert.Equal(reference.ApplySnapshot(snapshot), cache.ApplySnapshot(snapshot));
                        break;
                    }
                default:
                    break;
            }
            AssertSame(reference, cache, random);
        }
    }

    [Fact]
    public void Payloads_handed_out_stay_unchanged_after_their_slab_is_reused()
    {
        var cache = new LogCache(s_conf);
        var payload = new byte[1000];
        Array.Fill(payload, (byte)7);
        ulong index = 1;
        for (var i = 0; i < 2_000; i++)
        {
            cache.Append([new Entry(1, index++, EntryType.Normal, payload)]);
        }
        var handedOut = cache.Entries(1, 3, long.MaxValue).Value;

        // Compact everything, then write other bytes: the slabs are reused.
        Assert.Equal(StorageError.None, cache.Compact(index - 1));
        var other = new byte[1000];
        Array.Fill(other, (byte)9);
        for (var i = 0; i < 2_000; i++)
        {
            cache.Append([new Entry(1, index++, EntryType.Normal, other)]);
        }

        Assert.All(handedOut.ToArray(), e => Assert.True(e.Data.Span.SequenceEqual(payload)));
        Assert.True(cache.Entries(index - 1, index, long.MaxValue).Value.Span[0].Data.Span.SequenceEqual(other));
    }

    private static void AssertSame(MemoryStorage reference, LogCache cache, Random random)
    {
        Assert.Equal(reference.FirstIndex(), cache.FirstIndex());
        Assert.Equal(reference.LastIndex(), cache.LastIndex());
        var first = reference.FirstIndex();
        var last = reference.LastIndex();
        for (var probe = 0; probe < 3; probe++)
        {
            var index = (ulong)random.NextInt64((long)Math.Max(1, first - 1), (long)last + 2);
            var (want, got) = (reference.Term(index), cache.Term(index));
            Assert.Equal(want.Error, got.Error);
            Assert.Equal(want.IsOk ? want.Value : 0, got.IsOk ? got.Value : 0);
        }
        if (last < first)
        {
            return;
        }
        if (random.Next(10) == 0)
        {
            AssertEntries(reference, cache, first, last + 1, long.MaxValue);
        }
        var lo = (ulong)random.NextInt64((long)first, (long)last + 1);
        var hi = (ulong)random.NextInt64((long)lo, (long)last + 2);
        AssertEntries(reference, cache, lo, hi, random.Next(3) == 0 ? long.MaxValue : random.Next(1, 20_000));
    }

    /// <summary>The same answer to the same read, payload bytes included.</summary>
    private static void AssertEntries(MemoryStorage reference, LogCache cache, ulong lo, ulong hi, long maxBytes)
    {
        var expected = reference.Entries(lo, hi, maxBytes);
        var actual = cache.Entries(lo, hi, maxBytes);
        Assert.Equal(expected.Error, actual.Error);
        if (!expected.IsOk)
        {
            return;
        }
        Assert.Equal(expected.Value.Length, actual.Value.Length);
        for (var i = 0; i < expected.Value.Length; i++)
        {
            var (e, a) = (expected.Value.Span[i], actual.Value.Span[i]);
            Assert.Equal((e.Term, e.Index, e.Type), (a.Term, a.Index, a.Type));
            Assert.True(e.Data.Span.SequenceEqual(a.Data.Span), $"payload of entry {e.Index}");
        }
    }
}
