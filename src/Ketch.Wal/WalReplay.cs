using Ketch.Raft;

namespace Ketch.Wal;

/// <summary>
/// What a WAL held when it was opened: the metadata, the last hard state, the log as the
/// records rebuild it (later entries replacing earlier ones at the same index), and the
/// snapshot markers found. The application picks its snapshot, then takes the entries after it
/// with <see cref="EntriesAfter"/>.
/// </summary>
public sealed class WalReplay
{
    private readonly string _directory;

    internal WalReplay(WalMetadata metadata, HardState hardState, List<Entry> entries, IReadOnlySet<SnapshotMarker> markers,
        SnapshotMarker? lastMarker, ulong lastIndexWritten, string directory)
    {
        _directory = directory;
        Metadata = metadata;
        HardState = hardState;
        Entries = entries;
        SnapshotMarkers = markers;
        LastMarker = lastMarker;
        LastIndexWritten = lastIndexWritten;
    }

    /// <summary>The member and cluster the WAL belongs to.</summary>
    public WalMetadata Metadata { get; }

    /// <summary>The last hard state recorded (empty if none).</summary>
    public HardState HardState { get; }

    /// <summary>The retained log, in index order, without gaps.</summary>
    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>The snapshots the WAL knows of: a snapshot file is usable only if its marker is here
    /// (it may have been saved just before a crash that lost the marker).</summary>
    public IReadOnlySet<SnapshotMarker> SnapshotMarkers { get; }

    internal SnapshotMarker? LastMarker { get; }

    internal ulong LastIndexWritten { get; }

    /// <summary>The entries after a snapshot at <paramref name="snapshotIndex"/>. Throws
    /// <see cref="WalCorruptionException"/> when the retained log does not reach back to it.</summary>
    public ReadOnlyMemory<Entry> EntriesAfter(ulong snapshotIndex)
    {
        if (Entries.Count == 0 || Entries[^1].Index <= snapshotIndex)
        {
            return ReadOnlyMemory<Entry>.Empty;
        }
        var first = Entries[0].Index;
        if (first > snapshotIndex + 1)
        {
            throw new WalCorruptionException(_directory, 0, $"the log starts at index {first}, after the snapshot at {snapshotIndex}: entries {snapshotIndex + 1}..{first - 1} are missing");
        }
        var skip = (int)(snapshotIndex + 1 - first);
        return Entries.Skip(skip).ToArray();
    }
}
