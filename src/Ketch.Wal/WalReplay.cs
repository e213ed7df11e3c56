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
    private List<Entry>? _entries;

    internal WalReplay(WalMetadata metadata, HardState hardState, List<Entry> entries, IReadOnlySet<SnapshotMarker> markers,
        SnapshotMarker? lastMarker, ulong lastIndexWritten, string directory, ulong payloadsAbove = 0)
    {
        PayloadsAbove = payloadsAbove;
        _directory = directory;
        Metadata = metadata;
        HardState = hardState;
        _entries = entries;
        SnapshotMarkers = markers;
        LastMarker = lastMarker;
        LastIndexWritten = lastIndexWritten;
    }

    /// <summary>The member and cluster the WAL belongs to.</summary>
    public WalMetadata Metadata { get; }

    /// <summary>The last hard state recorded (empty if none).</summary>
    public HardState HardState { get; }

    /// <summary>The retained log, in index order, without gaps. Throws once <see cref="WalStorage"/>
    /// has taken what it needs and released it (<see cref="ReleaseEntries"/>), and when payloads
    /// were not loaded (<see cref="PayloadsAbove"/> above 0).</summary>
    public IReadOnlyList<Entry> Entries => PayloadsAbove == 0
        ? LoadedEntries
        : throw new InvalidOperationException($"the payloads of entries up to {PayloadsAbove} were not loaded");

    /// <summary>Entries at or below this index were replayed without their payload (empty data):
    /// <see cref="WalStorage"/> asks for the payloads after the newest snapshot file only, the
    /// ones it will cache. 0: every payload is loaded.</summary>
    internal ulong PayloadsAbove { get; }

    private List<Entry> LoadedEntries =>
        _entries ?? throw new InvalidOperationException("the replayed entries were released when the storage was opened");

    /// <summary>The snapshots the WAL knows of: a snapshot file is usable only if its marker is here
    /// (it may have been saved just before a crash that lost the marker).</summary>
    public IReadOnlySet<SnapshotMarker> SnapshotMarkers { get; }

    internal SnapshotMarker? LastMarker { get; }

    internal ulong LastIndexWritten { get; }

    /// <summary>The entries after a snapshot at <paramref name="snapshotIndex"/>. Throws
    /// <see cref="WalCorruptionException"/> when the retained log does not reach back to it, and
    /// <see cref="InvalidOperationException"/> when it is below <see cref="PayloadsAbove"/>.</summary>
    public ReadOnlyMemory<Entry> EntriesAfter(ulong snapshotIndex)
    {
        if (snapshotIndex < PayloadsAbove)
        {
            throw new InvalidOperationException($"the payloads of entries up to {PayloadsAbove} were not loaded");
        }
        var entries = LoadedEntries;
        if (entries.Count == 0 || entries[^1].Index <= snapshotIndex)
        {
            return ReadOnlyMemory<Entry>.Empty;
        }
        var first = entries[0].Index;
        if (first > snapshotIndex + 1)
        {
            throw new WalCorruptionException(_directory, 0, $"the log starts at index {first}, after the snapshot at {snapshotIndex}: entries {snapshotIndex + 1}..{first - 1} are missing");
        }
        var skip = (int)(snapshotIndex + 1 - first);
        var after = new Entry[entries.Count - skip];
        entries.CopyTo(skip, after, 0, after.Length);
        return after;
    }

    /// <summary>
    /// Drops the replayed log. The <see cref="Wal"/> keeps its replay for its whole life, and the
    /// log is every entry of the retained segments as objects, not only those after the snapshot:
    /// after loading 1,000,000 keys of 256 B, five 64 MiB segments held ~1,000,000 entries, ~400 MB
    /// of live heap on a restarted member when every payload was loaded (dotnet-gcdump: 693 MB
    /// against 289 MB on the member that had loaded them), of which the log cache needs the last
    /// ~100,000 and copies those into its slabs.
    /// </summary>
    internal void ReleaseEntries() => _entries = null;
}
