using Ketch.Raft;
using Ketch.Raft.Storage;

namespace Ketch.Wal;

/// <summary>
/// A durable <see cref="IRaftStorage"/>: a <see cref="Wal"/> and a <see cref="Snapshotter"/> on
/// disk, with the retained log cached in a <see cref="LogCache"/> that Raft reads (as etcd's
/// raft node feeds a MemoryStorage from its WAL on restart). Layout: <c>{dir}/wal</c> and
/// <c>{dir}/snap</c>. Thread-safe for reads; persist Readies from one thread at a time.
/// </summary>
public sealed class WalStorage : IRaftStorage, IDisposable, IAsyncDisposable
{
    private readonly Wal _wal;
    private readonly Snapshotter _snapshotter;
    private readonly LogCache _memory;

    private WalStorage(Wal wal, Snapshotter snapshotter, LogCache memory)
    {
        _wal = wal;
        _snapshotter = snapshotter;
        _memory = memory;
    }

    /// <summary>The WAL underneath.</summary>
    public Wal Wal => _wal;

    /// <summary>The snapshot files underneath.</summary>
    public Snapshotter Snapshotter => _snapshotter;

    /// <summary>The member and cluster this storage belongs to.</summary>
    public WalMetadata Metadata => _wal.Metadata;

    /// <summary>Creates the storage of a new member of a new group; <see cref="WalMetadata.Bootstrap"/>
    /// is its initial configuration.</summary>
    public static WalStorage Create(string dir, WalMetadata metadata, WalOptions? options = null, int snapshotsToKeep = 5)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        options ??= new WalOptions();
        var snapshotter = new Snapshotter(options.FileSystem, Path.Combine(dir, "snap"), snapshotsToKeep);
        var wal = Wal.Create(Path.Combine(dir, "wal"), metadata, options);
        return new WalStorage(wal, snapshotter, Bootstrap(metadata));
    }

    /// <summary>Whether <paramref name="dir"/> holds a WAL to <see cref="Open"/>.</summary>
    public static bool Exists(string dir, WalOptions? options = null) =>
        WalReader.ListSegments((options ?? new WalOptions()).FileSystem, Path.Combine(dir, "wal")).Count > 0;

    /// <summary>
    /// Restarts from disk: the newest intact snapshot the WAL has a marker for, then the WAL's
    /// entries after it and its last hard state. Throws <see cref="WalCorruptionException"/> when the
    /// WAL is damaged beyond a torn tail.
    /// </summary>
    public static WalStorage Open(string dir, WalOptions? options = null, int snapshotsToKeep = 5)
    {
        options ??= new WalOptions();
        var snapshotter = new Snapshotter(options.FileSystem, Path.Combine(dir, "snap"), snapshotsToKeep);
        // The newest intact snapshot file is the one used unless the WAL lacks its marker (saved just
        // before a crash): only the entries after it are cached, so only their payloads are loaded.
        // Loading every payload of the retained log peaked at ~980 MiB RSS for a member that runs at
        // ~440 MiB after a load of 1,000,000 keys of 256 B.
        var newest = snapshotter.LoadNewest();
        var wal = Wal.Open(Path.Combine(dir, "wal"), options, newest?.Metadata.Index ?? 0);
        try
        {
            var replay = wal.Replay;
            var snapshot = newest;
            if (newest is not null && !replay.SnapshotMarkers.Contains(new SnapshotMarker(newest.Metadata.Index, newest.Metadata.Term)))
            {
                snapshot = snapshotter.LoadNewest(m => replay.SnapshotMarkers.Contains(new SnapshotMarker(m.Index, m.Term)));
                replay = wal.ReadReplayAgain();
            }
            var memory = Bootstrap(replay.Metadata);
            if (snapshot is not null)
            {
                memory.ApplySnapshot(snapshot);
            }
            memory.Append(replay.EntriesAfter(snapshot?.Metadata.Index ?? 0).Span);
            memory.SetHardState(replay.HardState);
            // The cache holds copies now; the replayed log (the whole retained WAL) would stay alive
            // with the Wal for the member's life.
            replay.ReleaseEntries();
            wal.Replay.ReleaseEntries();
            return new WalStorage(wal, snapshotter, memory);
        }
        catch
        {
            wal.Abandon();
            throw;
        }
    }

    private static LogCache Bootstrap(WalMetadata metadata) =>
        new(ConfState.Of(metadata.Bootstrap.Voters, metadata.Bootstrap.Learners));

    /// <summary>
    /// Persists what a <see cref="Ready"/> asks for, in its order: the snapshot file, then one WAL
    /// append of the snapshot marker, the entries and the hard state, fsynced when
    /// <see cref="Ready.MustSync"/> (or a snapshot) requires; only then does Raft see them.
    /// </summary>
    public Task SaveAsync(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        return SaveAsync(ready.HardState, ready.Entries, ready.Snapshot, ready.MustSync);
    }

    /// <summary>Persists a snapshot (optional), entries and a hard state (optional); see <see cref="SaveAsync(Ready)"/>.</summary>
    public async Task SaveAsync(HardState? hardState, ReadOnlyMemory<Entry> entries, Snapshot? snapshot, bool mustSync)
    {
        SnapshotMarker? marker = null;
        if (snapshot is not null && !snapshot.IsEmpty)
        {
            // The file before the marker: a marker must never name a snapshot that is not on disk.
            _snapshotter.Save(snapshot);
            marker = new SnapshotMarker(snapshot.Metadata.Index, snapshot.Metadata.Term);
        }
        if (marker is not null || !entries.IsEmpty || hardState is not null)
        {
            await _wal.AppendAsync(marker, entries, hardState, mustSync || marker is not null).ConfigureAwait(false);
        }
        if (marker is not null)
        {
            _memory.ApplySnapshot(snapshot!);
        }
        _memory.Append(entries.Span);
        if (hardState is { } hs)
        {
            _memory.SetHardState(hs);
        }
    }

    /// <summary>Persists a Ready, blocking until it is durable.</summary>
    public void Save(Ready ready) => SaveAsync(ready).GetAwaiter().GetResult();

    /// <summary>
    /// Takes a snapshot of the application state as of <paramref name="index"/> (applied), saves it,
    /// records its marker, compacts the cached log through <paramref name="index"/> minus
    /// <paramref name="catchUpEntries"/> and releases WAL segments wholly before the snapshot. Answers
    /// the storage error when the snapshot is out of date.
    /// </summary>
    /// <param name="index">The applied index the state reflects.</param>
    /// <param name="confState">The configuration at <paramref name="index"/>.</param>
    /// <param name="data">The application's state blob.</param>
    /// <param name="catchUpEntries">Entries before <paramref name="index"/> kept in the cached log, so
    /// a follower a little behind catches up from the log instead of needing the whole snapshot
    /// (etcd keeps 5,000).</param>
    public async Task<StorageError> CreateSnapshotAsync(ulong index, ConfState? confState, ReadOnlyMemory<byte> data, ulong catchUpEntries = 0)
    {
        var created = _memory.CreateSnapshot(index, confState, data);
        if (!created.IsOk)
        {
            return created.Error;
        }
        var snapshot = created.Value;
        _snapshotter.Save(snapshot);
        await _wal.SaveSnapshotMarkerAsync(new SnapshotMarker(snapshot.Metadata.Index, snapshot.Metadata.Term)).ConfigureAwait(false);
        if (index > catchUpEntries && index - catchUpEntries >= _memory.FirstIndex())
        {
            _memory.Compact(index - catchUpEntries);
        }
        _wal.ReleaseTo(index);
        return StorageError.None;
    }

    /// <inheritdoc />
    public RaftInitialState InitialState() => _memory.InitialState();

    /// <summary>Told after each snapshot file saved: total, encoding and fsync time (<see cref="Snapshotter.SaveObserver"/>).</summary>
    public Action<TimeSpan, TimeSpan, TimeSpan>? SnapshotSaveObserver
    {
        get => _snapshotter.SaveObserver;
        set => _snapshotter.SaveObserver = value;
    }

    /// <summary>Bytes of records appended to the WAL since it was opened.</summary>
    public long WalBytesAppended => _wal.BytesAppended;

    /// <inheritdoc />
    public StorageResult<ReadOnlyMemory<Entry>> Entries(ulong lo, ulong hi, long maxBytes) => _memory.Entries(lo, hi, maxBytes);

    /// <inheritdoc />
    public StorageResult<ulong> Term(ulong index) => _memory.Term(index);

    /// <inheritdoc />
    public ulong FirstIndex() => _memory.FirstIndex();

    /// <inheritdoc />
    public ulong LastIndex() => _memory.LastIndex();

    /// <inheritdoc />
    public StorageResult<Snapshot> Snapshot() => _memory.Snapshot();

    /// <summary>Closes the WAL (syncing it).</summary>
    public ValueTask DisposeAsync() => _wal.DisposeAsync();

    /// <summary>Closes the WAL (syncing it).</summary>
    public void Dispose() => _wal.Dispose();

    /// <summary>Drops everything as a crash would (tests).</summary>
    internal void Abandon() => _wal.Abandon();
}
