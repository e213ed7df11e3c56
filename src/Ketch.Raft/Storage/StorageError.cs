namespace Ketch.Raft.Storage;

/// <summary>
/// Expected outcomes of a storage read that are not data. They are values, not exceptions,
/// because the leader meets them on its hot path (a follower far behind needs a snapshot).
/// </summary>
public enum StorageError : byte
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The index asked for is older than the first retained entry: it was compacted
    /// into a snapshot.</summary>
    Compacted = 1,

    /// <summary>The index asked for is not in storage (yet).</summary>
    Unavailable = 2,

    /// <summary>A snapshot exists but cannot be handed out now; the leader retries later.</summary>
    SnapshotTemporarilyUnavailable = 3,

    /// <summary>The snapshot offered is older than the one already held.</summary>
    SnapshotOutOfDate = 4,
}
