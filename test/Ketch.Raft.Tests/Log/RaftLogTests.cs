using Ketch.Raft.Storage;
using Xunit;
using static Ketch.Raft.Tests.Log.LogTestData;

namespace Ketch.Raft.Tests.Log;

public sealed class RaftLogTests
{
    [Fact]
    public void BoundsAndTermsSpanStorageAndUnstable()
    {
        var log = StableAndUnstable(out _);
        Assert.Equal(1UL, log.FirstIndex());
        Assert.Equal(5UL, log.LastIndex());
        Assert.Equal(3UL, log.LastTerm());
        Assert.Equal(0UL, log.Term(0).Value);
        Assert.Equal(2UL, log.Term(3).Value);
        Assert.Equal(3UL, log.Term(4).Value);
        Assert.Equal(StorageError.Unavailable, log.Term(6).Error);
    }

    [Fact]
    public void FindConflict()
    {
        var log = StableAndUnstable(out _);
        Assert.Equal(0UL, log.FindConflict([]));
        // Everything already held.
        Assert.Equal(0UL, log.FindConflict(Run(2, 1, 2, 3)));
        // New entries past the end.
        Assert.Equal(6UL, log.FindConflict(Run(4, 3, 3, 3, 3)));
        // A different term in the stable part, and in the unstable part.
        Assert.Equal(3UL, log.FindConflict(Run(2, 1, 4, 4)));
        Assert.Equal(5UL, log.FindConflict(Run(4, 3, 4)));
    }

    [Theory]
    // Terms by index: 1:1 2:1 3:2 4:3 5:3.
    [InlineData(5UL, 3UL, 5UL, 3UL)]
    [InlineData(5UL, 2UL, 3UL, 2UL)]
    [InlineData(5UL, 1UL, 2UL, 1UL)]
    [InlineData(4UL, 9UL, 4UL, 3UL)]
    [InlineData(5UL, 0UL, 0UL, 0UL)]
    [InlineData(0UL, 5UL, 0UL, 0UL)]
    public void FindConflictByTerm(ulong index, ulong term, ulong wantIndex, ulong wantTerm)
    {
        var log = StableAndUnstable(out _);
        Assert.Equal((wantIndex, wantTerm), log.FindConflictByTerm(index, term));
    }

    [Fact]
    public void FindConflictByTermStopsAtTheCompactionPoint()
    {
        var log = StableAndUnstable(out var storage);
        storage.CreateSnapshot(2, null, default);
        storage.Compact(2);
        // Index 2 is the compaction point: its term (1) is still known.
        Assert.Equal((2UL, 1UL), log.FindConflictByTerm(5, 1));
        // Below it the term is unknown and reported as 0: a possible match.
        Assert.Equal((1UL, 0UL), log.FindConflictByTerm(5, 0));
    }

    [Fact]
    public void MaybeAppendRefusesWhenThePrecedingEntryDoesNotMatch()
    {
        var log = StableAndUnstable(out _);
        Assert.Null(log.MaybeAppend(3, 3, 5, Run(4, 3)));
        Assert.Null(log.MaybeAppend(6, 3, 5, Run(7, 3)));
        Assert.Equal(5UL, log.LastIndex());
        Assert.Equal(0UL, log.Committed);
    }

    [Fact]
    public void MaybeAppendOfHeldEntriesKeepsTheTailAndCommitsOnlyWhatWasVerified()
    {
        var log = StableAndUnstable(out _);
        // The leader says 5 is committed but this message only verifies up to 3.
        Assert.Equal(3UL, log.MaybeAppend(1, 1, 5, Run(2, 1, 2)));
        Assert.Equal(5UL, log.LastIndex());
        Assert.Equal(3UL, log.Committed);
    }

    [Fact]
    public void MaybeAppendReplacesAConflictingSuffix()
    {
        var log = StableAndUnstable(out _);
        // The leader's entry 3 is of term 4: entries 3..5 go, 3..4 of term 4 come in.
        Assert.Equal(4UL, log.MaybeAppend(2, 1, 2, Run(3, 4, 4)));
        Assert.Equal(4UL, log.LastIndex());
        Assert.Equal([1UL, 1, 4, 4], Terms(log.Slice(1, 5, long.MaxValue).Value));
        Assert.Equal(2UL, log.Committed);
        // The replacement is unstable from index 3 on, although 3 had been stable.
        Assert.Equal(3UL, log.Unstable.Offset);
    }

    [Fact]
    public void MaybeAppendRefusesToReplaceCommittedEntries()
    {
        var log = StableAndUnstable(out _);
        log.CommitTo(4);
        Assert.Throws<InvalidOperationException>(() => log.MaybeAppend(2, 1, 4, Run(3, 5)));
    }

    [Fact]
    public void SliceJoinsStableAndUnstableEntries()
    {
        var log = StableAndUnstable(out _);
        Assert.Equal([2UL, 3, 4, 5], Indexes(log.Slice(2, 6, long.MaxValue).Value));
        Assert.Equal([4UL, 5], Indexes(log.Slice(4, 6, long.MaxValue).Value));
        Assert.Equal([1UL, 2], Indexes(log.Slice(1, 3, long.MaxValue).Value));
        Assert.True(log.Slice(3, 3, long.MaxValue).Value.IsEmpty);
    }

    [Theory]
    // Each entry here counts Entry.OverheadBytes (no payload); at least one is returned.
    [InlineData(0L, new ulong[] { 2 })]
    [InlineData(1L * Entry.OverheadBytes, new ulong[] { 2 })]
    [InlineData(2L * Entry.OverheadBytes, new ulong[] { 2, 3 })]
    [InlineData(3L * Entry.OverheadBytes, new ulong[] { 2, 3, 4 })]
    [InlineData(3L * Entry.OverheadBytes + 1, new ulong[] { 2, 3, 4 })]
    [InlineData(4L * Entry.OverheadBytes, new ulong[] { 2, 3, 4, 5 })]
    public void SliceRespectsTheSizeLimitAcrossTheBoundary(long maxBytes, ulong[] want)
    {
        var log = StableAndUnstable(out _);
        Assert.Equal(want, Indexes(log.Slice(2, 6, maxBytes).Value));
    }

    [Fact]
    public void SliceBelowTheCompactionPointIsCompacted()
    {
        var log = StableAndUnstable(out var storage);
        storage.CreateSnapshot(2, null, default);
        storage.Compact(2);
        Assert.Equal(3UL, log.FirstIndex());
        Assert.Equal(StorageError.Compacted, log.Slice(2, 4, long.MaxValue).Error);
        Assert.Equal([3UL, 4], Indexes(log.Slice(3, 5, long.MaxValue).Value));
        Assert.Throws<InvalidOperationException>(() => log.Slice(3, 7, long.MaxValue));
    }

    [Fact]
    public void MaybeCommitOnlyEntriesOfTheGivenTerm()
    {
        var log = StableAndUnstable(out _);
        // Index 3 is of term 2: a term-3 leader may not commit it by counting replicas.
        Assert.False(log.MaybeCommit(3, 3));
        Assert.Equal(0UL, log.Committed);
        Assert.True(log.MaybeCommit(4, 3));
        Assert.Equal(4UL, log.Committed);
        Assert.False(log.MaybeCommit(4, 3));
    }

    [Fact]
    public void IsUpToDateComparesLastTermThenLastIndex()
    {
        var log = StableAndUnstable(out _);
        Assert.True(log.IsUpToDate(1, 4));
        Assert.True(log.IsUpToDate(5, 3));
        Assert.True(log.IsUpToDate(6, 3));
        Assert.False(log.IsUpToDate(4, 3));
        Assert.False(log.IsUpToDate(9, 2));
    }
}
