using Ketch.Raft.Storage;
using Xunit;

namespace Ketch.Raft.Tests;

/// <summary>
/// The contract every <see cref="IRaftStorage"/> must honour, written once and run against each
/// implementation (MemoryStorage here; the WAL-backed storage adds a subclass).
/// </summary>
public abstract class StorageConformanceTests
{
    /// <summary>A fresh storage holding entries 4..6 of terms 3, 4, 5 after a compaction
    /// point at index 3, term 3.</summary>
    protected abstract IRaftStorage CreateWithEntries(ulong offsetIndex, ulong offsetTerm, params (ulong Index, ulong Term)[] entries);

    private IRaftStorage Standard() => CreateWithEntries(3, 3, (4, 4), (5, 5), (6, 5));

    [Fact]
    public void FirstAndLastIndex()
    {
        var s = Standard();
        Assert.Equal(4UL, s.FirstIndex());
        Assert.Equal(6UL, s.LastIndex());
    }

    [Theory]
    [InlineData(2UL, StorageError.Compacted, 0UL)]
    [InlineData(3UL, StorageError.None, 3UL)]
    [InlineData(4UL, StorageError.None, 4UL)]
    [InlineData(6UL, StorageError.None, 5UL)]
    [InlineData(7UL, StorageError.Unavailable, 0UL)]
    public void Term(ulong index, StorageError error, ulong term)
    {
        var r = Standard().Term(index);
        Assert.Equal(error, r.Error);
        if (r.IsOk)
        {
            Assert.Equal(term, r.Value);
        }
    }

    [Theory]
    [InlineData(2UL, 6UL, long.MaxValue, StorageError.Compacted, new ulong[0])]
    [InlineData(3UL, 4UL, long.MaxValue, StorageError.Compacted, new ulong[0])]
    [InlineData(4UL, 5UL, long.MaxValue, StorageError.None, new ulong[] { 4 })]
    [InlineData(4UL, 7UL, long.MaxValue, StorageError.None, new ulong[] { 4, 5, 6 })]
    // A limit below one entry still returns one entry, so replication always progresses.
    [InlineData(4UL, 7UL, 0L, StorageError.None, new ulong[] { 4 })]
    [InlineData(4UL, 7UL, 2L * Entry.OverheadBytes, StorageError.None, new ulong[] { 4, 5 })]
    [InlineData(4UL, 7UL, 2L * Entry.OverheadBytes + 1, StorageError.None, new ulong[] { 4, 5 })]
    public void Entries(ulong lo, ulong hi, long maxBytes, StorageError error, ulong[] indexes)
    {
        var r = Standard().Entries(lo, hi, maxBytes);
        Assert.Equal(error, r.Error);
        if (r.IsOk)
        {
            Assert.Equal(indexes, r.Value.ToArray().Select(e => e.Index));
        }
    }

    [Fact]
    public void ReadingPastTheEndIsABug()
    {
        Assert.ThrowsAny<ArgumentException>(() => Standard().Entries(4, 8, long.MaxValue));
    }
}

public sealed class MemoryStorageConformanceTests : StorageConformanceTests
{
    protected override IRaftStorage CreateWithEntries(ulong offsetIndex, ulong offsetTerm, params (ulong Index, ulong Term)[] entries)
    {
        var s = new MemoryStorage();
        s.ApplySnapshot(new Snapshot(ReadOnlyMemory<byte>.Empty,
            new SnapshotMetadata(offsetIndex, offsetTerm, ConfState.Of([1UL]))));
        s.Append(entries.Select(e => new Entry(e.Term, e.Index, EntryType.Normal, ReadOnlyMemory<byte>.Empty)).ToArray());
        return s;
    }
}
