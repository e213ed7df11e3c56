namespace Ketch.Wal;

/// <summary>The position of a snapshot in the log, as recorded in the WAL.</summary>
/// <param name="Index">The last index the snapshot covers.</param>
/// <param name="Term">The term of the entry at <paramref name="Index"/>.</param>
public readonly record struct SnapshotMarker(ulong Index, ulong Term);
