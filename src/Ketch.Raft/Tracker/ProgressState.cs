namespace Ketch.Raft.Tracker;

/// <summary>How the leader currently replicates to a follower.</summary>
public enum ProgressState : byte
{
    /// <summary>The follower's log position is unknown: send one append at a time and wait
    /// for the answer (after election, rejection or unreachability).</summary>
    Probe = 0,

    /// <summary>The follower is in step: stream appends optimistically within the
    /// <see cref="Inflights"/> window.</summary>
    Replicate = 1,

    /// <summary>The follower needs entries that were compacted: a snapshot is on its way and
    /// nothing else is sent until it is reported.</summary>
    Snapshot = 2,
}
