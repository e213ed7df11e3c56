namespace Ketch.Raft;

/// <summary>
/// A contiguous run of entries whose handed-out slices never change. Appends write only past
/// every slot ever written; a truncation (a conflicting suffix replaced, Raft §5.3) copies the
/// kept prefix into a fresh array instead of overwriting. So a <see cref="ReadOnlyMemory{T}"/>
/// given to a <see cref="Ready"/> or a <see cref="Message"/> stays valid while the log moves
/// on, and the hot path hands out entries without copying them.
/// </summary>
internal sealed class EntryBuffer
{
    private const int MinCapacity = 64;

    private Entry[] _array = [];
    private int _start;
    private int _count;

    // True while _array is someone else's (adopted from a message): never write into it.
    private bool _borrowed;

    /// <summary>Number of entries held.</summary>
    public int Count => _count;

    /// <summary>The entry at position <paramref name="i"/> (0-based within the buffer).</summary>
    public Entry this[int i]
    {
        get
        {
            if ((uint)i >= (uint)_count)
            {
                throw new ArgumentOutOfRangeException(nameof(i), i, $"buffer holds {_count} entries");
            }
            return _array[_start + i];
        }
    }

    /// <summary>The last entry; the buffer must not be empty.</summary>
    public Entry Last => this[_count - 1];

    /// <summary>Entries at positions [<paramref name="lo"/>, <paramref name="hi"/>), shared, not copied.</summary>
    public ReadOnlyMemory<Entry> Slice(int lo, int hi)
    {
        if (lo < 0 || hi > _count || lo > hi)
        {
            throw new ArgumentOutOfRangeException(nameof(lo), $"slice [{lo},{hi}) out of [0,{_count})");
        }
        return new ReadOnlyMemory<Entry>(_array, _start + lo, hi - lo);
    }

    /// <summary>Appends entries at the end.</summary>
    public void Append(ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty)
        {
            return;
        }
        var end = _start + _count;
        if (_borrowed || end + entries.Length > _array.Length)
        {
            // Move into a new array holding only live entries; the old one stays valid for
            // whoever holds slices of it. The new array has room for three times the live
            // entries and is never smaller than the old one, so a buffer whose prefix is
            // released as it grows (the unstable tail, a compacted storage) costs little more
            // than one 8-byte slot per entry appended (measured: bench/Ketch.Raft.Benchmarks).
            var capacity = Math.Max(Math.Max(MinCapacity, 4 * (_count + entries.Length)), _array.Length);
            var next = new Entry[capacity];
            Array.Copy(_array, _start, next, 0, _count);
            _array = next;
            _start = 0;
            _borrowed = false;
            end = _count;
        }
        entries.CopyTo(_array.AsSpan(end));
        _count += entries.Length;
    }

    /// <summary>
    /// Appends a run of entries; when the buffer is empty and the run is backed by an array,
    /// the buffer adopts it instead of copying (a follower taking the entries of an append
    /// message). The adopted array is treated as read-only: the next append copies.
    /// </summary>
    public void Append(ReadOnlyMemory<Entry> entries)
    {
        if (_count == 0 && !entries.IsEmpty
            && System.Runtime.InteropServices.MemoryMarshal.TryGetArray(entries, out var segment))
        {
            _array = segment.Array!;
            _start = segment.Offset;
            _count = segment.Count;
            _borrowed = true;
            return;
        }
        Append(entries.Span);
    }

    /// <summary>Appends one entry at the end.</summary>
    public void Append(Entry entry) => Append(new ReadOnlySpan<Entry>(in entry));

    /// <summary>Keeps positions [0, <paramref name="keep"/>) and drops the rest; slices of the
    /// dropped tail stay valid because the kept prefix moves to a fresh array.</summary>
    public void TruncateTo(int keep)
    {
        if (keep < 0 || keep > _count)
        {
            throw new ArgumentOutOfRangeException(nameof(keep), keep, $"buffer holds {_count} entries");
        }
        if (keep == _count)
        {
            return;
        }
        var next = new Entry[Math.Max(MinCapacity, 2 * keep)];
        Array.Copy(_array, _start, next, 0, keep);
        _array = next;
        _start = 0;
        _count = keep;
        _borrowed = false;
    }

    /// <summary>Drops the first <paramref name="n"/> entries.</summary>
    public void DropPrefix(int n)
    {
        if (n < 0 || n > _count)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, $"buffer holds {_count} entries");
        }
        _start += n;
        _count -= n;
        if (_count == 0 && _borrowed)
        {
            // Let go of an adopted array as soon as nothing of it is live.
            _array = [];
            _start = 0;
            _borrowed = false;
        }
    }

    /// <summary>Drops every entry.</summary>
    public void Clear() => DropPrefix(_count);
}
