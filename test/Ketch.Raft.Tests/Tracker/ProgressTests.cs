using Ketch.Raft.Tracker;
using Xunit;

namespace Ketch.Raft.Tests.Tracker;

public sealed class ProgressTests
{
    private static Progress New(ulong match, ulong next, int maxInflight = 256) =>
        new(match, next, new Inflights(maxInflight, 0), isLearner: false);

    private static Progress Replicating(ulong match, ulong next, int maxInflight = 256)
    {
        var pr = New(match, match + 1, maxInflight);
        pr.BecomeReplicate();
        if (next > match + 1)
        {
            pr.SentEntries((int)(next - match - 1), next - 1, 0, 0);
        }
        return pr;
    }

    [Theory]
    // Stale or equal acknowledgements change nothing.
    [InlineData(3UL, 5UL, 2UL, false, 3UL, 5UL)]
    [InlineData(3UL, 5UL, 3UL, false, 3UL, 5UL)]
    // Within what was sent: Match moves, Next stays.
    [InlineData(3UL, 5UL, 4UL, true, 4UL, 5UL)]
    // Beyond Next (e.g. the follower had the entries already): Next follows.
    [InlineData(3UL, 5UL, 7UL, true, 7UL, 8UL)]
    public void MaybeUpdate(ulong match, ulong next, ulong ack, bool updated, ulong wantMatch, ulong wantNext)
    {
        var pr = New(match, next);
        Assert.Equal(updated, pr.MaybeUpdate(ack));
        Assert.Equal(wantMatch, pr.Match);
        Assert.Equal(wantNext, pr.Next);
    }

    [Fact]
    public void MaybeUpdateUnpausesAProbe()
    {
        var pr = New(0, 3);
        pr.SentEntries(1, 3, 10, 0);
        Assert.True(pr.IsPaused);
        Assert.True(pr.MaybeUpdate(3));
        Assert.False(pr.IsPaused);
    }

    [Theory]
    // Replicate: a rejection at or below Match is stale.
    [InlineData(5UL, 10UL, 5UL, 0UL, false, 10UL)]
    [InlineData(5UL, 10UL, 4UL, 0UL, false, 10UL)]
    // Otherwise fall back to just after Match, whatever the hint.
    [InlineData(5UL, 10UL, 9UL, 7UL, true, 6UL)]
    [InlineData(5UL, 10UL, 7UL, 2UL, true, 6UL)]
    public void MaybeDecrToInReplicate(ulong match, ulong next, ulong rejected, ulong hint, bool changed, ulong wantNext)
    {
        var pr = Replicating(match, next);
        Assert.Equal(changed, pr.MaybeDecrTo(rejected, hint));
        Assert.Equal(wantNext, pr.Next);
        Assert.Equal(match, pr.Match);
    }

    [Theory]
    // Probe: only the answer to the last probe (at Next - 1) counts.
    [InlineData(0UL, 10UL, 8UL, 3UL, false, 10UL)]
    [InlineData(0UL, 10UL, 10UL, 3UL, false, 10UL)]
    // The hint moves Next to just after it...
    [InlineData(0UL, 10UL, 9UL, 3UL, true, 4UL)]
    // ...but never past the rejected index...
    [InlineData(0UL, 10UL, 9UL, 20UL, true, 9UL)]
    // ...and never to or below Match.
    [InlineData(5UL, 10UL, 9UL, 1UL, true, 6UL)]
    public void MaybeDecrToInProbe(ulong match, ulong next, ulong rejected, ulong hint, bool changed, ulong wantNext)
    {
        var pr = New(match, next);
        pr.SentEntries(0, next - 1, 0, 0);
        Assert.Equal(changed, pr.MaybeDecrTo(rejected, hint));
        Assert.Equal(wantNext, pr.Next);
        if (changed)
        {
            Assert.False(pr.IsPaused);
        }
    }

    [Fact]
    public void ProbeIsPausedWhileAProbeIsOutstanding()
    {
        var pr = New(0, 1);
        Assert.False(pr.IsPaused);
        pr.SentEntries(0, 0, 0, 0);
        Assert.True(pr.IsPaused);
        // A heartbeat answer lifts the pause (the leader's handler clears the flag).
        pr.MsgAppFlowPaused = false;
        Assert.False(pr.IsPaused);
    }

    [Fact]
    public void ReplicateIsPausedOnlyWhenTheWindowIsFull()
    {
        var pr = Replicating(1, 2, maxInflight: 2);
        pr.SentEntries(1, 2, 10, 1);
        Assert.False(pr.IsPaused);
        Assert.Equal(3UL, pr.Next);
        pr.SentEntries(2, 4, 20, 1);
        Assert.True(pr.IsPaused);
        Assert.Equal(5UL, pr.Next);
        Assert.True(pr.MaybeUpdate(2));
        pr.Inflights.FreeLE(2);
        pr.MsgAppFlowPaused = pr.Inflights.Full;
        Assert.False(pr.IsPaused);
    }

    [Fact]
    public void SnapshotIsAlwaysPausedAndProbesAfterTheSnapshot()
    {
        var pr = New(2, 3);
        pr.BecomeSnapshot(10);
        Assert.True(pr.IsPaused);
        Assert.Equal(10UL, pr.PendingSnapshot);
        pr.BecomeProbe();
        Assert.Equal(ProgressState.Probe, pr.State);
        Assert.Equal(11UL, pr.Next);
        Assert.Equal(0UL, pr.PendingSnapshot);
        Assert.False(pr.IsPaused);
    }

    [Fact]
    public void BecomeProbeAfterReplicateRestartsAfterMatch()
    {
        var pr = Replicating(4, 9);
        pr.BecomeProbe();
        Assert.Equal(ProgressState.Probe, pr.State);
        Assert.Equal(5UL, pr.Next);
        Assert.Equal(0, pr.Inflights.Count);
    }

    [Fact]
    public void CanBumpCommitOnlyBelowNext()
    {
        var pr = Replicating(3, 6);
        Assert.True(pr.CanBumpCommit(4));
        // The follower may hold at most up to Next - 1 = 5.
        pr.SentHeartbeatCommit(5);
        Assert.False(pr.CanBumpCommit(9));
    }

    [Fact]
    public void SendingInSnapshotStateIsABug()
    {
        var pr = New(0, 1);
        pr.BecomeSnapshot(5);
        Assert.Throws<InvalidOperationException>(() => pr.SentEntries(1, 1, 1, 0));
    }
}
