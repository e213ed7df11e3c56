namespace Ketch.Raft.Storage;

/// <summary>
/// The reference <see cref="IRaftStorage"/>: everything in memory. Tests and the simulator use
/// it as is; a durable member feeds one from its WAL on restart. Thread-safe.
/// </summary>
public sealed class MemoryStorage : IRaftStorage
{
    private readonly Lock _lock = new();
    private readonly EntryBuffer _entries = new();
    private HardState _hardState;
    private Snapshot _snapshot = Ketch.Raft.Snapshot.Empty;

    // The compaction point: the entry just before the first held one. Its term stays readable.
    private ulong _offsetIndex;
    private ulong _offsetTerm;

    /// <summary>Creates an empty storage (first index 1, last index 0).</summary>
    public MemoryStorage()
    {
    }

    /// <summary>Creates a storage for a new group with the given members, as if a snapshot at
    /// index 0 had installed that configuration.</summary>
    public static MemoryStorage WithMembers(IEnumerable<ulong> voters, IEnumerable<ulong>? learners = null)
    {
        var storage = new MemoryStorage();
        storage._snapshot = new Ketch.Raft.Snapshot(ReadOnlyMemory<byte>.Empty,
            new SnapshotMetadata(0, 0, ConfState.Of(voters, learners)));
        return storage;
    }

    /// <inheritdoc />
    public RaftInitialState InitialState()
    {
        lock (_lock)
        {
            return new RaftInitialState(_hardState, _snapshot.Metadata.ConfState);
        }
    }

    /// <summary>Records the hard state (the application calls this when it persists a Ready).</summary>
    public void SetHardState(HardState hardState)
    {
        lock (_lock)
        {
            _hardState = hardState;
        }
    }

    /// <inheritdoc />
    public StorageResult<ReadOnlyMemory<Entry>> Entries(ulong lo, ulong hi, long maxBytes)
    {
        lock (_lock)
        {
            if (lo <= _offsetIndex)
            {
                return StorageResult<ReadOnlyMemory<Entry>>.Fail(StorageError.Compacted);
            }
            var last = LastIndexLocked();
            if (hi > last + 1)
            {
                throw new ArgumentOutOfRangeException(nameof(hi), $"entries [{lo},{hi}) past last index {last}");
            }
            if (lo > hi)
            {
                throw new ArgumentOutOfRangeException(nameof(lo), $"invalid range [{lo},{hi})");
            }
            if (_entries.Count == 0)
            {
                return StorageResult<ReadOnlyMemory<Entry>>.Fail(StorageError.Unavailable);
            }
            var slice = _entries.Slice((int)(lo - _offsetIndex - 1), (int)(hi - _offsetIndex - 1));
            return LogLimits.LimitSize(slice, maxBytes);
        }
    }

    /// <inheritdoc />
    public StorageResult<ulong> Term(ulong index)
    {
        lock (_lock)
        {
            if (index < _offsetIndex)
            {
                return StorageResult<ulong>.Fail(StorageError.Compacted);
            }
            if (index == _offsetIndex)
            {
                return _offsetTerm;
            }
            if (index > LastIndexLocked())
            {
                return StorageResult<ulong>.Fail(StorageError.Unavailable);
            }
            return _entries[(int)(index - _offsetIndex - 1)].Term;
        }
    }

    /// <inheritdoc />
    public ulong FirstIndex()
    {
        lock (_lock)
        {
            return _offsetIndex + 1;
        }
    }

    /// <inheritdoc />
    public ulong LastIndex()
    {
        lock (_lock)
        {
            return LastIndexLocked();
        }
    }

    /// <inheritdoc />
    public StorageResult<Ketch.Raft.Snapshot> Snapshot()
    {
        lock (_lock)
        {
            return _snapshot;
        }
    }

    /// <summary>Replaces the whole contents with a snapshot received from the leader.
    /// Answers <see cref="StorageError.SnapshotOutOfDate"/> for one not newer than the held one.</summary>
    public StorageError ApplySnapshot(Ketch.Raft.Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_lock)
        {
            if (snapshot.Metadata.Index <= _snapshot.Metadata.Index)
            {
                return StorageError.SnapshotOutOfDate;
            }
            _snapshot = snapshot;
            _offsetIndex = snapshot.Metadata.Index;
            _offsetTerm = snapshot.Metadata.Term;
            _entries.Clear();
            return StorageError.None;
        }
    }

    /// <summary>Records a snapshot of the application state as of <paramref name="index"/>
    /// (which must be applied, hence held). Does not compact; call <see cref="Compact"/>.</summary>
    public StorageResult<Ketch.Raft.Snapshot> CreateSnapshot(ulong index, ConfState? confState, ReadOnlyMemory<byte> data)
    {
        lock (_lock)
        {
            if (index <= _snapshot.Metadata.Index)
            {
                return StorageResult<Ketch.Raft.Snapshot>.Fail(StorageError.SnapshotOutOfDate);
            }
            var last = LastIndexLocked();
            if (index > last)
            {
                throw new ArgumentOutOfRangeException(nameof(index), $"snapshot index {index} is past last index {last}");
            }
            var term = index == _offsetIndex ? _offsetTerm : _entries[(int)(index - _offsetIndex - 1)].Term;
            _snapshot = new Ketch.Raft.Snapshot(data, new SnapshotMetadata(index, term, confState ?? _snapshot.Metadata.ConfState));
            return _snapshot;
        }
    }

    /// <summary>Discards entries up to and including <paramref name="compactIndex"/>, which must
    /// not be past the last index. Answers <see cref="StorageError.Compacted"/> if already done.</summary>
    public StorageError Compact(ulong compactIndex)
    {
        lock (_lock)
        {
            if (compactIndex <= _offsetIndex)
            {
                return StorageError.Compacted;
            }
            var last = LastIndexLocked();
            if (compactIndex > last)
            {
                throw new ArgumentOutOfRangeException(nameof(compactIndex), $"compact index {compactIndex} is past last index {last}");
            }
            var n = (int)(compactIndex - _offsetIndex);
            _offsetTerm = _entries[n - 1].Term;
            _offsetIndex = compactIndex;
            _entries.DropPrefix(n);
            return StorageError.None;
        }
    }

    /// <summary>Appends entries handed out by a Ready. Entries at indexes already held replace
    /// them and everything after (the leader overwrote a conflicting suffix); entries before the
    /// compaction point are ignored. A gap after the last index is a bug and throws.</summary>
    public void Append(ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty)
        {
            return;
        }
        lock (_lock)
        {
            var first = _offsetIndex + 1;
            var lastNew = entries[^1].Index;
            if (lastNew < first)
            {
                return;
            }
            if (entries[0].Index < first)
            {
                entries = entries[(int)(first - entries[0].Index)..];
            }
            var position = entries[0].Index - first;
            if (position > (ulong)_entries.Count)
            {
                throw new InvalidOperationException(
                    $"missing log entries: last index {LastIndexLocked()}, appending at {entries[0].Index}");
            }
            _entries.TruncateTo((int)position);
            _entries.Append(entries);
        }
    }

    private ulong LastIndexLocked() => _offsetIndex + (ulong)_entries.Count;
}
