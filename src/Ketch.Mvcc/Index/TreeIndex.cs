namespace Ketch.Mvcc.Index;

/// <summary>
/// The in-memory ordered index from key to <see cref="KeyIndex"/> (etcd's treeIndex): a red-black
/// tree for ranges plus a hash map for point lookups, the hot path of single-key reads and puts.
/// Not thread-safe: the store serialises access.
/// </summary>
internal sealed class TreeIndex
{
    private static readonly KeyIndex s_infinity = new([]);
    private readonly SortedSet<KeyIndex> _tree = new(new KeyOrder());
    private readonly Dictionary<byte[], KeyIndex> _byKey = new(ByteKeys.EqualityComparer);

    /// <summary>The number of keys with any revision left.</summary>
    public int Count => _byKey.Count;

    /// <summary>The index of <paramref name="key"/>, or null.</summary>
    public KeyIndex? Find(byte[] key) => _byKey.GetValueOrDefault(key);

    /// <summary>The index of <paramref name="key"/>, or null, without an array for the key.</summary>
    public KeyIndex? Find(ReadOnlySpan<byte> key) =>
        _byKey.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var ki) ? ki : null;

    /// <summary>The index of <paramref name="key"/>, created if absent.</summary>
    public KeyIndex GetOrAdd(byte[] key)
    {
        if (!_byKey.TryGetValue(key, out var ki))
        {
            ki = new KeyIndex(key);
            _byKey.Add(key, ki);
            _tree.Add(ki);
        }

        return ki;
    }

    /// <summary>
    /// The key indexes in [<paramref name="key"/>, <paramref name="end"/>) in key order, with etcd's
    /// conventions for <paramref name="end"/> (null or empty: the single key; <c>"\0"</c>: no bound).
    /// Lazy: callers page through it without materialising the range.
    /// </summary>
    public IEnumerable<KeyIndex> Range(byte[] key, byte[]? end)
    {
        if (end is null || end.Length == 0)
        {
            var ki = Find(key);
            return ki is null ? [] : [ki];
        }

        var open = ByteKeys.IsOpenEnd(end);
        if (!open && ByteKeys.Compare(end, key) <= 0)
        {
            return [];
        }

        var lower = new KeyIndex(key);
        var upper = open ? s_infinity : new KeyIndex(end);
        return Exclusive(_tree.GetViewBetween(lower, upper), open ? null : end);
    }

    /// <summary>Applies <see cref="KeyIndex.Compact"/> to every key and drops keys left empty.</summary>
    public HashSet<Revision> Compact(long atRev)
    {
        var keep = new HashSet<Revision>();
        List<KeyIndex>? empty = null;
        foreach (var ki in _tree)
        {
            ki.Compact(atRev, keep);
            if (ki.IsEmpty)
            {
                (empty ??= []).Add(ki);
            }
        }

        foreach (var ki in empty ?? [])
        {
            _tree.Remove(ki);
            _byKey.Remove(ki.Key);
        }

        return keep;
    }

    private static IEnumerable<KeyIndex> Exclusive(SortedSet<KeyIndex> view, byte[]? end)
    {
        foreach (var ki in view)
        {
            if (end is not null && ki.Key.AsSpan().SequenceEqual(end))
            {
                yield break;
            }

            yield return ki;
        }
    }

    private sealed class KeyOrder : IComparer<KeyIndex>
    {
        public int Compare(KeyIndex? x, KeyIndex? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            if (ReferenceEquals(x, s_infinity))
            {
                return 1;
            }

            if (ReferenceEquals(y, s_infinity))
            {
                return -1;
            }

            return ByteKeys.Compare(x!.Key, y!.Key);
        }
    }
}
