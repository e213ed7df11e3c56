namespace Ketch.Wal;

/// <summary>The kinds of WAL record (docs/wal.md, "Record types"). 0 is never a record type:
/// a header of zeros is preallocated space, the end of the log.</summary>
internal enum RecordType : byte
{
    /// <summary>Member id, cluster id and bootstrap configuration; first record of every segment.</summary>
    Metadata = 1,

    /// <summary>One Raft entry, in the Raft binary encoding.</summary>
    Entry = 2,

    /// <summary>A Raft hard state, in the Raft binary encoding.</summary>
    HardState = 3,

    /// <summary>The (index, term) of a snapshot saved to the snapshot directory.</summary>
    SnapshotMarker = 4,
}
