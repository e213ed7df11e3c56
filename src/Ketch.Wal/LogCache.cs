using Ketch.Raft;
using Ketch.Raft.Storage;

namespace Ketch.Wal;

/// <summary>
/// The retained log that <see cref="WalStorage"/> serves Raft from (etcd keeps the same in its
/// MemoryStorage): everything since the last compaction, up to a snapshot's worth of entries.
/// Thread-safe.
/// </summary>
/// <remarks>
/// Entries are not kept as objects. Their payloads are copied into 1 MiB slabs reused from a pool,
/// and each entry is one struct (term, type, slab, offset, length). Kept as objects (an Entry and
/// its array per entry, or the whole received frame it slices), every entry of a busy member lived
/// through two garbage collections into the oldest generation and died there together at the next
/// snapshot, which is the costliest pattern for .NET's generational GC: ephemeral collections copy
/// them, and the mass death fragments gen2 until a blocking compaction (100–280 ms pauses in a
/// 1,000-client put load). Slabs are allocated once, never moved, hold no references, and go back
/// to the pool when compaction passes them. The price is a copy: <see cref="Entries"/> hands out
/// fresh entries (their payloads in shared arrays below the large-object threshold, see
/// <see cref="PayloadCopier"/>), which die young in whoever reads them.
/// </remarks>
internal sealed class LogCache
{
    private const int SlabBytes = 1 << 20;
    private const int MaxPooledSlabs = 256;

    private readonly Lock _lock = new();
    private readonly Queue<Slab> _active = new();
    private readonly Stack<byte[]> _pool = new();
    private Slot[] _slots = new Slot[1024];
    private int _start;
    private int _count;
    private Slab? _current;
    private long _nextSlabSeq;
    private HardState _hardState;
    private Snapshot _snapshot;

    // The compaction point: the entry just before the first held one. Its term stays readable.
    private ulong _offsetIndex;
    private ulong _offsetTerm;

    /// <summary>Creates an empty cache whose initial configuration is <paramref name="bootstrap"/>
    /// (as if a snapshot at index 0 had installed it).</summary>
    public LogCache(ConfState bootstrap)
    {
        _snapshot = new Snapshot(ReadOnlyMemory<byte>.Empty, new SnapshotMetadata(0, 0, bootstrap));
    }

    public RaftInitialState InitialState()
    {
        lock (_lock)
        {
            return new RaftInitialState(_hardState, _snapshot.Metadata.ConfState);
        }
    }

    public void SetHardState(HardState hardState)
    {
        lock (_lock)
        {
            _hardState = hardState;
        }
    }

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
            // The longest prefix within maxBytes, never less than one entry (as LogLimits does).
            var first = Position(lo);
            var n = 1;
            long size = _slots[first].Length + Entry.OverheadBytes;
            var payload = _slots[first].Length;
            var want = (int)(hi - lo);
            for (; n < want; n++)
            {
                var length = _slots[first + n].Length;
                size += length + Entry.OverheadBytes;
                if (maxBytes != long.MaxValue && size > maxBytes)
                {
                    break;
                }
                payload += length;
            }
            var copier = new PayloadCopier(payload);
            var entries = new Entry[n];
            for (var i = 0; i < n; i++)
            {
                ref readonly var slot = ref _slots[first + i];
                entries[i] = new Entry(slot.Term, lo + (ulong)i, slot.Type, copier.Copy(slot.Slab.AsSpan(slot.Offset, slot.Length)));
            }
            return (ReadOnlyMemory<Entry>)entries;
        }
    }

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
            return _slots[Position(index)].Term;
        }
    }

    public ulong FirstIndex()
    {
        lock (_lock)
        {
            return _offsetIndex + 1;
        }
    }

    public ulong LastIndex()
    {
        lock (_lock)
        {
            return LastIndexLocked();
        }
    }

    public StorageResult<Snapshot> Snapshot()
    {
        lock (_lock)
        {
            return _snapshot;
        }
    }

    /// <summary>Replaces the whole contents with a snapshot received from the leader; answers
    /// <see cref="StorageError.SnapshotOutOfDate"/> for one not newer than the held one.</summary>
    public StorageError ApplySnapshot(Snapshot snapshot)
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
            Array.Clear(_slots, _start, _count);
            _start = 0;
            _count = 0;
            ReleaseSlabsBefore(long.MaxValue);
            return StorageError.None;
        }
    }

    /// <summary>Records a snapshot of the application state as of <paramref name="index"/> (held,
    /// applied). Does not compact; call <see cref="Compact"/>.</summary>
    public StorageResult<Snapshot> CreateSnapshot(ulong index, ConfState? confState, ReadOnlyMemory<byte> data)
    {
        lock (_lock)
        {
            if (LogBounds.CheckCreateSnapshot(index, _snapshot.Metadata.Index, _offsetIndex, LastIndexLocked()) is not StorageError.None and var error)
            {
                return StorageResult<Snapshot>.Fail(error);
            }
            var term = index == _offsetIndex ? _offsetTerm : _slots[Position(index)].Term;
            _snapshot = new Snapshot(data, new SnapshotMetadata(index, term, confState ?? _snapshot.Metadata.ConfState));
            return _snapshot;
        }
    }

    /// <summary>Discards entries up to and including <paramref name="compactIndex"/> (not past the
    /// last index); their slabs go back to the pool. Answers <see cref="StorageError.Compacted"/>
    /// if already done.</summary>
    public StorageError Compact(ulong compactIndex)
    {
        lock (_lock)
        {
            if (LogBounds.CheckCompact(compactIndex, _offsetIndex, LastIndexLocked()) is not StorageError.None and var error)
            {
                return error;
            }
            var drop = (int)(compactIndex - _offsetIndex);
            _offsetTerm = _slots[Position(compactIndex)].Term;
            Array.Clear(_slots, _start, drop);
            _start += drop;
            _count -= drop;
            _offsetIndex = compactIndex;
            ReleaseSlabsBefore(_count > 0 ? _slots[_start].SlabSeq : long.MaxValue);
            return StorageError.None;
        }
    }

    /// <summary>
    /// Appends entries (copying their payloads). Entries at indexes already held replace them and
    /// everything after (the leader overwrote a conflicting suffix); entries before the compaction
    /// point are ignored. A gap after the last index is a bug and throws.
    /// </summary>
    public void Append(ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty)
        {
            return;
        }
        lock (_lock)
        {
            entries = entries[LogBounds.SkipOnAppend(entries, _offsetIndex, LastIndexLocked())..];
            if (entries.IsEmpty)
            {
                return;
            }
            var from = entries[0].Index;
            if (from <= LastIndexLocked())
            {
                // Truncate the conflicting suffix; its slab space is reclaimed with the slab.
                var keep = (int)(from - _offsetIndex - 1);
                Array.Clear(_slots, _start + keep, _count - keep);
                _count = keep;
            }
            EnsureRoom(entries.Length);
            foreach (var e in entries)
            {
                _slots[_start + _count] = Store(e);
                _count++;
            }
        }
    }

    private ulong LastIndexLocked() => _offsetIndex + (ulong)_count;

    private int Position(ulong index) => _start + (int)(index - _offsetIndex - 1);

    private Slot Store(Entry e)
    {
        var length = e.Data.Length;
        if (length > SlabBytes / 4)
        {
            // A large payload gets an array of its own, outside the pool.
            return new Slot(e.Term, e.Type, e.Data.ToArray(), 0, length, _current?.Seq ?? _nextSlabSeq);
        }
        if (_current is null || _current.Used + length > SlabBytes)
        {
            _current = new Slab(_pool.TryPop(out var reused) ? reused : new byte[SlabBytes], _nextSlabSeq++);
            _active.Enqueue(_current);
        }
        var offset = _current.Used;
        e.Data.Span.CopyTo(_current.Bytes.AsSpan(offset));
        _current.Used += length;
        return new Slot(e.Term, e.Type, _current.Bytes, offset, length, _current.Seq);
    }

    /// <summary>Returns to the pool every slab older than <paramref name="seq"/> (no held entry
    /// points into it: slots point into slabs in the order the slabs were taken).</summary>
    private void ReleaseSlabsBefore(long seq)
    {
        while (_active.TryPeek(out var slab) && slab.Seq < seq)
        {
            _active.Dequeue();
            if (ReferenceEquals(slab, _current))
            {
                _current = null;
            }
            if (_pool.Count < MaxPooledSlabs)
            {
                _pool.Push(slab.Bytes);
            }
        }
    }

    private void EnsureRoom(int more)
    {
        if (_start + _count + more <= _slots.Length)
        {
            return;
        }
        var needed = _count + more;
        var target = needed * 2 <= _slots.Length ? _slots : new Slot[Math.Max(needed * 2, 1024)];
        Array.Copy(_slots, _start, target, 0, _count);
        if (ReferenceEquals(target, _slots))
        {
            Array.Clear(_slots, _count, _start);
        }
        _slots = target;
        _start = 0;
    }

    private readonly record struct Slot(ulong Term, EntryType Type, byte[] Slab, int Offset, int Length, long SlabSeq);

    private sealed class Slab(byte[] bytes, long seq)
    {
        public byte[] Bytes { get; } = bytes;

        public long Seq { get; } = seq;

        public int Used { get; set; }
    }
}
