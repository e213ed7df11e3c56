namespace Ketch.Server.Http.HPack;

/// <summary>
/// The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of entries, newest first (dynamic index
/// 1 is the most recent insertion), bounded by a maximum size in bytes where each entry counts
/// its name and value lengths plus 32 (§4.1). A ring buffer: insertion and eviction are O(1).
/// </summary>
internal sealed class HPackDynamicTable(int maxSize)
{
    /// <summary>Per-entry overhead of §4.1.</summary>
    public const int EntryOverhead = 32;

    private Entry[] _ring = new Entry[16];
    private int _newest = -1; // slot of the newest entry

    /// <summary>Number of entries.</summary>
    public int Count { get; private set; }

    /// <summary>Current size in the sense of §4.1.</summary>
    public int Size { get; private set; }

    /// <summary>Current maximum size (changed by dynamic table size updates, §6.3).</summary>
    public int MaxSize { get; private set; } = maxSize;

    /// <summary>Entry <paramref name="index"/> (1 = newest).</summary>
    public ref readonly Entry this[int index]
    {
        get
        {
            if ((uint)(index - 1) >= (uint)Count)
            {
                throw new HPackDecodingException($"HPACK: dynamic table index {index} out of range ({Count} entries)");
            }
            return ref _ring[(_newest - (index - 1) + _ring.Length) % _ring.Length];
        }
    }

    /// <summary>Adds an entry whose name is the first <paramref name="nameLength"/> bytes of
    /// <paramref name="data"/> and whose value is the rest, evicting from the oldest end until it
    /// fits; an entry larger than the maximum size empties the table and is not added (§4.4).</summary>
    public void Add(byte[] data, int nameLength, int staticNameIndex)
    {
        var size = data.Length + EntryOverhead;
        EvictTo(MaxSize - size);
        if (size > MaxSize)
        {
            return;
        }
        if (Count == _ring.Length)
        {
            Grow();
        }
        _newest = (_newest + 1) % _ring.Length;
        _ring[_newest] = new Entry(data, nameLength, staticNameIndex);
        Count++;
        Size += size;
    }

    /// <summary>Applies a dynamic table size update (§6.3), evicting as needed (§4.3).</summary>
    public void SetMaxSize(int maxSize)
    {
        MaxSize = maxSize;
        EvictTo(maxSize);
    }

    private void EvictTo(int size)
    {
        while (Count > 0 && Size > size)
        {
            var oldest = (_newest - (Count - 1) + _ring.Length) % _ring.Length;
            Size -= _ring[oldest].Data.Length + EntryOverhead;
            _ring[oldest] = default;
            Count--;
        }
    }

    private void Grow()
    {
        var bigger = new Entry[_ring.Length * 2];
        for (var i = 0; i < Count; i++)
        {
            // oldest first, so the newest ends at Count - 1
            bigger[i] = this[Count - i];
        }
        _ring = bigger;
        _newest = Count - 1;
    }

    /// <summary>One entry: name and value in one array.</summary>
    /// <param name="Data">Name bytes followed by value bytes.</param>
    /// <param name="NameLength">Length of the name in <paramref name="Data"/>.</param>
    /// <param name="StaticNameIndex">The static index the name was taken from when inserted, else 0.</param>
    internal readonly record struct Entry(byte[] Data, int NameLength, int StaticNameIndex)
    {
        /// <summary>The entry's name.</summary>
        public ReadOnlySpan<byte> Name => Data.AsSpan(0, NameLength);

        /// <summary>The entry's value.</summary>
        public ReadOnlySpan<byte> Value => Data.AsSpan(NameLength);
    }
}
