namespace Ketch.Raft.Storage;

/// <summary>
/// The reference <see cref="IRaftStorage"/>: everything in memory. Tests and the simulator use
/// it as is; a durable member feeds one from its WAL on restart. Thread-safe.
/// </summary>
/// <remarks>
/// Entries are kept as the runs the application appended (chunks), not copied into one
/// array: the runs a <see cref="Ready"/> hands out are immutable, so keeping references to
/// them costs nothing per entry. Compaction drops whole chunks and trims the first one.
/// </remarks>
public sealed class MemoryStorage : IRaftStorage
{
    private readonly Lock _lock = new();
    private readonly List<ReadOnlyMemory<Entry>> _chunks = [];
    private int _firstChunk;
    private ulong _count;
    private HardState _hardState;
    private Ketch.Raft.Snapshot _snapshot = Ketch.Raft.Snapshot.Empty;

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
            if (LogBounds.CheckEntries(lo, hi, _offsetIndex, LastIndexLocked()) is not StorageError.None and var error)
            {
                return StorageResult<ReadOnlyMemory<Entry>>.Fail(error);
            }
            if (lo == hi)
            {
                return ReadOnlyMemory<Entry>.Empty;
            }
            var (chunk, pos) = Locate(lo);
            var run = _chunks[chunk];
            var want = hi - lo;
            if ((ulong)(run.Length - pos) >= want)
            {
                // The common case: the range lies in one appended run; share it.
                return LogLimits.LimitSize(run.Slice(pos, (int)want), maxBytes);
            }
            return Gather(chunk, pos, want, maxBytes);
        }
    }

    /// <inheritdoc />
    public StorageResult<ulong> Term(ulong index)
    {
        lock (_lock)
        {
            if (LogBounds.CheckTerm(index, _offsetIndex, LastIndexLocked()) is not StorageError.None and var error)
            {
                return StorageResult<ulong>.Fail(error);
            }
            if (index == _offsetIndex)
            {
                return _offsetTerm;
            }
            return EntryAt(index).Term;
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
            _chunks.Clear();
            _firstChunk = 0;
            _count = 0;
            return StorageError.None;
        }
    }

    /// <summary>Records a snapshot of the application state as of <paramref name="index"/>
    /// (which must be applied, hence held). Does not compact; call <see cref="Compact"/>.</summary>
    public StorageResult<Ketch.Raft.Snapshot> CreateSnapshot(ulong index, ConfState? confState, ReadOnlyMemory<byte> data)
    {
        lock (_lock)
        {
            if (LogBounds.CheckCreateSnapshot(index, _snapshot.Metadata.Index, _offsetIndex, LastIndexLocked()) is not StorageError.None and var error)
            {
                return StorageResult<Ketch.Raft.Snapshot>.Fail(error);
            }
            var term = index == _offsetIndex ? _offsetTerm : EntryAt(index).Term;
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
            if (LogBounds.CheckCompact(compactIndex, _offsetIndex, LastIndexLocked()) is not StorageError.None and var error)
            {
                return error;
            }
            _offsetTerm = EntryAt(compactIndex).Term;
            DropThrough(compactIndex);
            return StorageError.None;
        }
    }

    /// <summary>Persists what a <see cref="Ready"/> asks to persist, in the contract's order:
    /// its snapshot, then its entries, then its hard state.</summary>
    public void Save(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (ready.Snapshot is { } snapshot)
        {
            ApplySnapshot(snapshot);
        }
        Append(ready.Entries);
        if (ready.HardState is { } hardState)
        {
            SetHardState(hardState);
        }
    }

    /// <summary>Appends a copy of entries; see <see cref="Append(ReadOnlyMemory{Entry})"/>.</summary>
    public void Append(ReadOnlySpan<Entry> entries) => Append((ReadOnlyMemory<Entry>)entries.ToArray());

    /// <summary>
    /// Appends entries handed out by a Ready, keeping a reference to them (they are immutable).
    /// Entries at indexes already held replace them and everything after (the leader overwrote a
    /// conflicting suffix); entries before the compaction point are ignored. A gap after the last
    /// index is a bug and throws.
    /// </summary>
    public void Append(ReadOnlyMemory<Entry> entries)
    {
        if (entries.IsEmpty)
        {
            return;
        }
        lock (_lock)
        {
            entries = entries[LogBounds.SkipOnAppend(entries.Span, _offsetIndex, LastIndexLocked())..];
            if (entries.IsEmpty)
            {
                return;
            }
            var from = entries.Span[0].Index;
            if (from <= LastIndexLocked())
            {
                TruncateFrom(from);
            }
            _chunks.Add(entries);
            _count += (ulong)entries.Length;
        }
    }

    private ulong LastIndexLocked() => _offsetIndex + _count;

    private Entry EntryAt(ulong index)
    {
        var (chunk, pos) = Locate(index);
        return _chunks[chunk].Span[pos];
    }

    /// <summary>The chunk holding <paramref name="index"/> and the position in it: a binary
    /// search over the chunks' first indexes (the chunks are contiguous and ascending).</summary>
    private (int Chunk, int Position) Locate(ulong index)
    {
        int lo = _firstChunk, hi = _chunks.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (_chunks[mid].Span[0].Index <= index)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        var run = _chunks[lo].Span;
        var pos = (long)(index - run[0].Index);
        if (pos < 0 || pos >= run.Length)
        {
            throw new InvalidOperationException($"index {index} not found in storage (offset {_offsetIndex}, count {_count})");
        }
        return (lo, (int)pos);
    }

    /// <summary>Copies a range that spans chunks into one array, up to the size limit.</summary>
    private ReadOnlyMemory<Entry> Gather(int chunk, int pos, ulong want, long maxBytes)
    {
        var result = new List<Entry>();
        long size = 0;
        while ((ulong)result.Count < want && chunk < _chunks.Count)
        {
            var run = _chunks[chunk].Span;
            for (; pos < run.Length && (ulong)result.Count < want; pos++)
            {
                size += run[pos].SizeBytes;
                if (result.Count > 0 && size > maxBytes)
                {
                    return result.ToArray();
                }
                result.Add(run[pos]);
            }
            chunk++;
            pos = 0;
        }
        return result.ToArray();
    }

    private void DropThrough(ulong index)
    {
        while (_firstChunk < _chunks.Count)
        {
            var run = _chunks[_firstChunk];
            var lastInRun = run.Span[^1].Index;
            if (lastInRun <= index)
            {
                _chunks[_firstChunk] = default;
                _firstChunk++;
                continue;
            }
            var firstInRun = run.Span[0].Index;
            if (firstInRun <= index)
            {
                _chunks[_firstChunk] = run[(int)(index + 1 - firstInRun)..];
            }
            break;
        }
        _count -= index - _offsetIndex;
        _offsetIndex = index;
        if (_firstChunk > 1024 && _firstChunk * 2 > _chunks.Count)
        {
            // Reclaim the list slots of dropped chunks once they are the majority.
            _chunks.RemoveRange(0, _firstChunk);
            _firstChunk = 0;
        }
    }

    private void TruncateFrom(ulong from)
    {
        var (chunk, pos) = Locate(from);
        if (pos == 0)
        {
            _chunks.RemoveRange(chunk, _chunks.Count - chunk);
        }
        else
        {
            _chunks[chunk] = _chunks[chunk][..pos];
            _chunks.RemoveRange(chunk + 1, _chunks.Count - chunk - 1);
        }
        _count = from - 1 - _offsetIndex;
    }
}
