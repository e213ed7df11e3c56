namespace Ketch.Raft.Storage;

/// <summary>
/// The <see cref="IRaftStorage"/> contract's answers that depend only on where a log starts and
/// ends, shared by the in-memory logs (<see cref="MemoryStorage"/>, and the WAL's cache, which
/// must answer exactly as it does). A log holds the entries (<c>offsetIndex</c>,
/// <c>lastIndex</c>]; <c>offsetIndex</c> is the compaction point, whose term stays readable.
/// Calls the contract forbids (a range past the last index, an inverted range) throw, as
/// etcd-io/raft's MemoryStorage panics on them.
/// </summary>
public static class LogBounds
{
    /// <summary>Whether <c>Entries(lo, hi)</c> can be read: <see cref="StorageError.None"/> when
    /// it can (the range may be empty), else <see cref="StorageError.Compacted"/> or
    /// <see cref="StorageError.Unavailable"/> (an empty log).</summary>
    public static StorageError CheckEntries(ulong lo, ulong hi, ulong offsetIndex, ulong lastIndex)
    {
        if (lo <= offsetIndex)
        {
            return StorageError.Compacted;
        }
        if (hi > lastIndex + 1)
        {
            throw new ArgumentOutOfRangeException(nameof(hi), $"entries [{lo},{hi}) past last index {lastIndex}");
        }
        if (lo > hi)
        {
            throw new ArgumentOutOfRangeException(nameof(lo), $"invalid range [{lo},{hi})");
        }
        return lastIndex == offsetIndex ? StorageError.Unavailable : StorageError.None;
    }

    /// <summary>Whether <c>Term(index)</c> can be read from a held entry: <see cref="StorageError.None"/>
    /// when it can, else <see cref="StorageError.Compacted"/> or <see cref="StorageError.Unavailable"/>.
    /// The compaction point itself is answered by the caller from its own record of the term.</summary>
    public static StorageError CheckTerm(ulong index, ulong offsetIndex, ulong lastIndex) =>
        index < offsetIndex ? StorageError.Compacted
        : index > lastIndex ? StorageError.Unavailable
        : StorageError.None;

    /// <summary>Whether a snapshot at <paramref name="index"/> can be created over a log whose
    /// snapshot is at <paramref name="snapshotIndex"/>: <see cref="StorageError.None"/>,
    /// <see cref="StorageError.SnapshotOutOfDate"/> or <see cref="StorageError.Compacted"/>.</summary>
    public static StorageError CheckCreateSnapshot(ulong index, ulong snapshotIndex, ulong offsetIndex, ulong lastIndex)
    {
        if (index <= snapshotIndex)
        {
            return StorageError.SnapshotOutOfDate;
        }
        if (index > lastIndex)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"snapshot index {index} is past last index {lastIndex}");
        }
        return index < offsetIndex ? StorageError.Compacted : StorageError.None;
    }

    /// <summary>Whether the log can be compacted through <paramref name="compactIndex"/>:
    /// <see cref="StorageError.None"/>, or <see cref="StorageError.Compacted"/> if already done.</summary>
    public static StorageError CheckCompact(ulong compactIndex, ulong offsetIndex, ulong lastIndex)
    {
        if (compactIndex <= offsetIndex)
        {
            return StorageError.Compacted;
        }
        if (compactIndex > lastIndex)
        {
            throw new ArgumentOutOfRangeException(nameof(compactIndex), $"compact index {compactIndex} is past last index {lastIndex}");
        }
        return StorageError.None;
    }

    /// <summary>
    /// How many leading entries of an append to skip (those before the compaction point are
    /// ignored); all of them when none is new. Throws for a gap after the last index, which is a
    /// bug. Entries from <c>entries[skip].Index</c> to the last index, if any, are a conflicting
    /// suffix the caller truncates before appending.
    /// </summary>
    public static int SkipOnAppend(ReadOnlySpan<Entry> entries, ulong offsetIndex, ulong lastIndex)
    {
        var first = offsetIndex + 1;
        if (entries[^1].Index < first)
        {
            return entries.Length;
        }
        var skip = entries[0].Index < first ? (int)(first - entries[0].Index) : 0;
        var from = entries[skip].Index;
        if (from > lastIndex + 1)
        {
            throw new InvalidOperationException($"missing log entries: last index {lastIndex}, appending at {from}");
        }
        return skip;
    }
}
