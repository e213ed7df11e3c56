namespace Ketch.Raft.Storage;

/// <summary>
/// The durable part of the Raft log as the state machine reads it. The application writes to
/// it (appending the entries and hard state each <see cref="Ready"/> hands out, installing
/// snapshots, compacting); Raft only reads. Entries not yet written live in Raft's unstable tail.
/// </summary>
/// <remarks>
/// Conventions, shared by every implementation (a conformance suite checks them):
/// <list type="bullet">
/// <item><see cref="FirstIndex"/> is the first index readable with <see cref="Entries"/>;
/// the index just before it (the compaction point, e.g. a snapshot's index) is still readable
/// with <see cref="Term"/>.</item>
/// <item><see cref="LastIndex"/> is <c>FirstIndex - 1</c> when no entries are held.</item>
/// <item>Reads below the compaction point answer <see cref="StorageError.Compacted"/>; reads past
/// the end answer <see cref="StorageError.Unavailable"/>.</item>
/// </list>
/// Methods may be called from the thread that drives Raft while the application writes from
/// another, so implementations must be thread-safe.
/// </remarks>
public interface IRaftStorage
{
    /// <summary>The durable hard state and configuration to restart from.</summary>
    RaftInitialState InitialState();

    /// <summary>Entries in [<paramref name="lo"/>, <paramref name="hi"/>), as many as fit in
    /// <paramref name="maxBytes"/> but always at least one when any are asked for.</summary>
    StorageResult<ReadOnlyMemory<Entry>> Entries(ulong lo, ulong hi, long maxBytes);

    /// <summary>The term of the entry at <paramref name="index"/>; valid from
    /// <c>FirstIndex - 1</c> through <see cref="LastIndex"/>.</summary>
    StorageResult<ulong> Term(ulong index);

    /// <summary>The first index readable by <see cref="Entries"/>.</summary>
    ulong FirstIndex();

    /// <summary>The last index held.</summary>
    ulong LastIndex();

    /// <summary>The most recent snapshot, for the leader to send to a follower that needs it.</summary>
    StorageResult<Snapshot> Snapshot();
}
