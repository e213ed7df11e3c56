namespace Ketch.Mvcc.Index;

/// <summary>
/// One life of a key: the revisions from its creation to its deletion (the tombstone, if any, is
/// the last revision). <see cref="Version"/> counts every revision ever added, so the version of the
/// revision at position i is <c>Version - (Count - 1 - i)</c> even after compaction trimmed
/// older revisions away.
/// </summary>
/// <remarks>
/// Memory matters here: the index holds one generation per key, and most keys (a million in the
/// benchmark's load) have a single revision, especially after compaction. That revision is kept
/// inline; an array exists only while a life has two or more revisions. A list plus its backing
/// array cost about 120 bytes per key more.
/// </remarks>
internal sealed class Generation
{
    private Revision _single;   // the only revision while _array is null and Count is 1
    private Revision[]? _array; // the revisions [0, Count) once there were two or more

    /// <summary>The number of revisions left in this life.</summary>
    public int Count { get; private set; }

    /// <summary>The revision that created the key in this life.</summary>
    public Revision Created { get; set; }

    /// <summary>The number of revisions ever added to this life.</summary>
    public long Version { get; set; }

    /// <summary>True before the first revision is added.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>The revision at position <paramref name="index"/> (0 is the oldest left).</summary>
    public Revision this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }

            return _array is null ? _single : _array[index];
        }
    }

    /// <summary>The newest revision; the generation must not be empty.</summary>
    public Revision Last => this[Count - 1];

    /// <summary>Appends <paramref name="rev"/>, the newest revision of this life.</summary>
    public void Add(Revision rev)
    {
        if (Count == 0)
        {
            _single = rev;
        }
        else
        {
            if (_array is null)
            {
                _array = new Revision[4];
                _array[0] = _single;
            }
            else if (_array.Length == Count)
            {
                Array.Resize(ref _array, Count * 2);
            }

            _array[Count] = rev;
        }

        Count++;
    }

    /// <summary>Drops the <paramref name="n"/> oldest revisions (compaction).</summary>
    public void RemoveOldest(int n)
    {
        if (n <= 0)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, Count);
        var left = Count - n;
        if (left == 1)
        {
            _single = this[Count - 1];
            _array = null;
        }
        else if (left == 0)
        {
            _array = null;
        }
        else
        {
            Array.Copy(_array!, n, _array!, 0, left);
        }

        Count = left;
    }

    /// <summary>Index of the last revision whose main revision is at most <paramref name="atRev"/>, or -1.</summary>
    public int LastAtOrBefore(long atRev)
    {
        int lo = 0, hi = Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (this[mid].Main <= atRev)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    /// <summary>The version of the revision at position <paramref name="index"/>.</summary>
    public long VersionAt(int index) => Version - (Count - 1 - index);
}
