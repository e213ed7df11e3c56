namespace Ketch.Raft.Tracker;

/// <summary>
/// The leader's flow-control window toward one follower: the append messages sent but not yet
/// acknowledged, as (last index, bytes) pairs in a ring. Full when either the count
/// (MaxInflightMsgs) or the byte total (MaxInflightBytes) reaches its limit; an acknowledgement
/// up to index i frees every message ending at or below i.
/// </summary>
public sealed class Inflights
{
    private readonly int _capacity;
    private readonly long _maxBytes;
    private (ulong Index, long Bytes)[] _ring = [];
    private int _start;

    /// <summary>Creates a window of at most <paramref name="capacity"/> messages and
    /// <paramref name="maxBytes"/> bytes (0 = no byte limit).</summary>
    public Inflights(int capacity, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        _capacity = capacity;
        _maxBytes = maxBytes;
    }

    /// <summary>Messages in flight.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes in flight.</summary>
    public long Bytes { get; private set; }

    /// <summary>True when no more messages may be sent.</summary>
    public bool Full => Count == _capacity || (_maxBytes != 0 && Bytes >= _maxBytes);

    /// <summary>Records a message whose last entry is <paramref name="index"/>. Indexes must
    /// increase; adding to a full window is a bug.</summary>
    public void Add(ulong index, long bytes)
    {
        if (Full)
        {
            throw new InvalidOperationException("cannot add into a full inflights window");
        }
        if (Count == _ring.Length)
        {
            Grow();
        }
        var slot = (_start + Count) % _ring.Length;
        _ring[slot] = (index, bytes);
        Count++;
        Bytes += bytes;
    }

    /// <summary>Frees every message whose last index is &lt;= <paramref name="index"/>.</summary>
    public void FreeLE(ulong index)
    {
        if (Count == 0 || index < _ring[_start].Index)
        {
            return;
        }
        var i = 0;
        var slot = _start;
        for (; i < Count; i++)
        {
            var (idx, bytes) = _ring[slot];
            if (index < idx)
            {
                break;
            }
            Bytes -= bytes;
            slot++;
            if (slot == _ring.Length)
            {
                slot = 0;
            }
        }
        Count -= i;
        _start = slot;
        if (Count == 0)
        {
            _start = 0;
        }
    }

    /// <summary>Forgets every message in flight.</summary>
    public void Reset()
    {
        Count = 0;
        Bytes = 0;
        _start = 0;
    }

    private void Grow()
    {
        // The ring grows on demand up to the capacity, so idle followers cost little memory.
        var size = Math.Min(_capacity, Math.Max(4, _ring.Length * 2));
        var next = new (ulong, long)[size];
        for (var i = 0; i < Count; i++)
        {
            next[i] = _ring[(_start + i) % _ring.Length];
        }
        _ring = next;
        _start = 0;
    }
}
