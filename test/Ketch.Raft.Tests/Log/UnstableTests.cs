using Xunit;
using static Ketch.Raft.Tests.Log.LogTestData;

namespace Ketch.Raft.Tests.Log;

public sealed class UnstableTests
{
    private static Unstable WithEntries(ulong offset, params ulong[] terms)
    {
        var u = new Unstable(offset);
        if (terms.Length > 0)
        {
            u.TruncateAndAppend(Run(offset, terms));
        }
        return u;
    }

    [Fact]
    public void EmptyKnowsNothing()
    {
        var u = new Unstable(5);
        Assert.False(u.TryFirstIndex(out _));
        Assert.False(u.TryLastIndex(out _));
        Assert.False(u.TryTerm(4, out _));
        Assert.False(u.TryTerm(5, out _));
    }

    [Fact]
    public void AppendAtTheEnd()
    {
        var u = WithEntries(5, 1, 1);
        u.TruncateAndAppend(Run(7, 2));
        Assert.Equal(5UL, u.Offset);
        Assert.True(u.TryLastIndex(out var last));
        Assert.Equal(7UL, last);
        Assert.Equal([1UL, 1, 2], Terms(u.Entries));
    }

    [Fact]
    public void ReplaceTheWholeTailAndMoveTheOffsetBack()
    {
        var u = WithEntries(5, 1, 1);
        u.TruncateAndAppend(Run(4, 2, 2));
        Assert.Equal(4UL, u.Offset);
        Assert.Equal([4UL, 5], Indexes(u.Entries));
        Assert.Equal([2UL, 2], Terms(u.Entries));
    }

    [Fact]
    public void TruncateInTheMiddle()
    {
        var u = WithEntries(5, 1, 1, 1);
        u.TruncateAndAppend(Run(6, 2, 2, 2));
        Assert.Equal(5UL, u.Offset);
        Assert.Equal([5UL, 6, 7, 8], Indexes(u.Entries));
        Assert.Equal([1UL, 2, 2, 2], Terms(u.Entries));
    }

    [Fact]
    public void SlicesHandedOutSurviveATruncation()
    {
        var u = WithEntries(5, 1, 1, 1);
        var handedOut = u.Entries;
        u.TruncateAndAppend(Run(6, 2));
        Assert.Equal([1UL, 1, 1], Terms(handedOut));
        Assert.Equal([1UL, 2], Terms(u.Entries));
    }

    [Fact]
    public void StableToReleasesAPrefixWhenTheTermMatches()
    {
        var u = WithEntries(5, 1, 1, 2);
        u.StableTo(6, 1);
        Assert.Equal(7UL, u.Offset);
        Assert.Equal([7UL], Indexes(u.Entries));
    }

    [Fact]
    public void StableToIgnoresAReplacedEntry()
    {
        var u = WithEntries(5, 1, 1, 2);
        // The Ready had 6 at term 3, but 6 is now of term 1: that write is not what we hold.
        u.StableTo(6, 3);
        Assert.Equal(5UL, u.Offset);
        // Out of range: nothing either.
        u.StableTo(9, 2);
        u.StableTo(4, 1);
        Assert.Equal(3, u.Count);
    }

    [Fact]
    public void RestoreHoldsOnlyTheSnapshotUntilItIsStable()
    {
        var u = WithEntries(5, 1, 1);
        var snap = new Snapshot(default, new SnapshotMetadata(10, 3, ConfState.Of([1])));
        u.Restore(snap);
        Assert.Equal(11UL, u.Offset);
        Assert.Equal(0, u.Count);
        Assert.True(u.TryFirstIndex(out var first));
        Assert.Equal(11UL, first);
        Assert.True(u.TryLastIndex(out var last));
        Assert.Equal(10UL, last);
        Assert.True(u.TryTerm(10, out var term));
        Assert.Equal(3UL, term);
        Assert.False(u.TryTerm(9, out _));
        u.StableSnapTo(9);
        Assert.NotNull(u.Snapshot);
        u.StableSnapTo(10);
        Assert.Null(u.Snapshot);
    }

    [Fact]
    public void EntriesAfterARestoredSnapshot()
    {
        var u = new Unstable(1);
        u.Restore(new Snapshot(default, new SnapshotMetadata(10, 3, ConfState.Of([1]))));
        u.TruncateAndAppend(Run(11, 3, 4));
        Assert.True(u.TryLastIndex(out var last));
        Assert.Equal(12UL, last);
        Assert.True(u.TryTerm(10, out var t10));
        Assert.Equal(3UL, t10);
        Assert.True(u.TryTerm(12, out var t12));
        Assert.Equal(4UL, t12);
    }

    [Fact]
    public void SliceOutsideTheUnstablePartThrows()
    {
        var u = WithEntries(5, 1, 1, 1);
        Assert.Equal([6UL, 7], Indexes(u.Slice(6, 8)));
        Assert.Throws<InvalidOperationException>(() => u.Slice(4, 6));
        Assert.Throws<InvalidOperationException>(() => u.Slice(6, 9));
        Assert.Throws<InvalidOperationException>(() => u.Slice(7, 6));
    }
}
