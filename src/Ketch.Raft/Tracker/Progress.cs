namespace Ketch.Raft.Tracker;

/// <summary>
/// The leader's view of one follower (Raft §5.3 nextIndex / matchIndex, plus flow control).
/// Invariant: <c>Match &lt; Next</c>; entries up to <see cref="Match"/> are known to be on the
/// follower; <see cref="Next"/> is the next index to send.
/// </summary>
public sealed class Progress
{
    internal Progress(ulong match, ulong next, Inflights inflights, bool isLearner)
    {
        Match = match;
        Next = next;
        Inflights = inflights;
        IsLearner = isLearner;
    }

    /// <summary>The highest index known replicated on the follower.</summary>
    public ulong Match { get; private set; }

    /// <summary>The next index to send.</summary>
    public ulong Next { get; private set; }

    /// <summary>The replication mode.</summary>
    public ProgressState State { get; private set; }

    /// <summary>In <see cref="ProgressState.Snapshot"/>: the index of the snapshot sent.</summary>
    public ulong PendingSnapshot { get; private set; }

    /// <summary>Whether the follower was heard from since the last check-quorum round.</summary>
    public bool RecentActive { get; internal set; }

    /// <summary>In <see cref="ProgressState.Probe"/>: an append was sent and not yet answered.
    /// In <see cref="ProgressState.Replicate"/>: the inflight window filled up. Either way no
    /// append is sent until a response or a heartbeat response arrives; the latter lets the
    /// leader send an empty append, so a window whose messages were all lost drains.</summary>
    public bool MsgAppFlowPaused { get; internal set; }

    /// <summary>The highest commit index sent to this follower.</summary>
    public ulong SentCommit { get; private set; }

    /// <summary>The append messages in flight (Replicate).</summary>
    public Inflights Inflights { get; }

    /// <summary>Whether this member is a learner (never votes, never counts for commit).</summary>
    public bool IsLearner { get; internal set; }

    /// <summary>Whether the leader must hold back appends to this follower now.</summary>
    public bool IsPaused => State switch
    {
        ProgressState.Probe or ProgressState.Replicate => MsgAppFlowPaused,
        _ => true,
    };

    /// <summary>Returns to probing from just after what the follower is known to have
    /// (or after the snapshot it was sent).</summary>
    public void BecomeProbe()
    {
        if (State == ProgressState.Snapshot)
        {
            var pending = PendingSnapshot;
            ResetState(ProgressState.Probe);
            Next = Math.Max(Match + 1, pending + 1);
        }
        else
        {
            ResetState(ProgressState.Probe);
            Next = Match + 1;
        }
        CheckInvariant();
    }

    /// <summary>Starts streaming from just after <see cref="Match"/>.</summary>
    public void BecomeReplicate()
    {
        ResetState(ProgressState.Replicate);
        Next = Match + 1;
    }

    /// <summary>Waits for a snapshot at <paramref name="snapshotIndex"/> to reach the follower.</summary>
    public void BecomeSnapshot(ulong snapshotIndex)
    {
        ResetState(ProgressState.Snapshot);
        PendingSnapshot = snapshotIndex;
    }

    /// <summary>Records an append sent: the last entry index and byte size of its entries,
    /// and the commit index it carried.</summary>
    public void SentEntries(int count, ulong lastIndex, long bytes, ulong commit)
    {
        switch (State)
        {
            case ProgressState.Replicate:
                if (count > 0)
                {
                    // Optimistic: assume it arrives (Raft thesis §10.2.1 pipelining).
                    Next = lastIndex + 1;
                    Inflights.Add(lastIndex, bytes);
                }
                MsgAppFlowPaused = Inflights.Full;
                break;
            case ProgressState.Probe:
                // One probe at a time; even an empty one waits for its answer.
                MsgAppFlowPaused = true;
                break;
            default:
                throw new InvalidOperationException($"sending entries in state {State}");
        }
        SentCommit = Math.Max(SentCommit, commit);
    }

    /// <summary>Records a commit index sent in a heartbeat.</summary>
    public void SentHeartbeatCommit(ulong commit) => SentCommit = Math.Max(SentCommit, commit);

    /// <summary>
    /// Whether an append with no entries would tell the follower a higher commit index than it
    /// has been sent. This lets the commit index flow while the inflight window is full.
    /// Only indexes the follower may hold (below <see cref="Next"/>) can be carried.
    /// </summary>
    public bool CanBumpCommit(ulong commit) => Math.Min(commit, Next - 1) > SentCommit;

    /// <summary>Handles a successful append response up to <paramref name="n"/>; returns false
    /// if it is stale (tells nothing new).</summary>
    public bool MaybeUpdate(ulong n)
    {
        if (n <= Match)
        {
            return false;
        }
        Match = n;
        Next = Math.Max(Next, n + 1);
        MsgAppFlowPaused = false;
        return true;
    }

    /// <summary>
    /// Handles a rejected append at <paramref name="rejected"/> with the follower's hint
    /// <paramref name="matchHint"/> (a probe point that may match). Returns false when the
    /// rejection is stale (for a message older than what we already know).
    /// </summary>
    public bool MaybeDecrTo(ulong rejected, ulong matchHint)
    {
        if (State == ProgressState.Replicate)
        {
            // In Replicate, Match is authoritative: a rejection at or below it is stale.
            if (rejected <= Match)
            {
                return false;
            }
            Next = Match + 1;
            return true;
        }
        // In Probe, only the answer to the last probe (at Next - 1) counts.
        if (Next - 1 != rejected)
        {
            return false;
        }
        Next = Math.Max(Math.Min(rejected, matchHint + 1), Match + 1);
        MsgAppFlowPaused = false;
        return true;
    }

    /// <summary>Restarts tracking (new term or configuration) at the given position.</summary>
    internal void Reset(ulong match, ulong next)
    {
        ResetState(ProgressState.Probe);
        Match = match;
        Next = next;
        RecentActive = false;
        SentCommit = 0;
        CheckInvariant();
    }

    /// <summary>A stable text form for logs and golden tests.</summary>
    public string Describe()
    {
        var s = $"State{State} match={Match} next={Next}";
        if (IsLearner)
        {
            s += " learner";
        }
        if (IsPaused)
        {
            s += " paused";
        }
        if (PendingSnapshot > 0)
        {
            s += $" pendingSnap={PendingSnapshot}";
        }
        if (!RecentActive)
        {
            s += " inactive";
        }
        if (Inflights.Count > 0)
        {
            s += $" inflight={Inflights.Count}";
            if (Inflights.Full)
            {
                s += "[full]";
            }
        }
        return s;
    }

    /// <inheritdoc />
    public override string ToString() => Describe();

    private void ResetState(ProgressState state)
    {
        MsgAppFlowPaused = false;
        PendingSnapshot = 0;
        State = state;
        Inflights.Reset();
    }

    private void CheckInvariant()
    {
        if (Match >= Next)
        {
            throw new InvalidOperationException($"progress invariant broken: match {Match} >= next {Next}");
        }
    }
}
