namespace Ketch.Mvcc;

/// <summary>A read of a key or a key range (etcd's <c>RangeRequest</c>).</summary>
public sealed class RangeRequest
{
    /// <summary>The first key of the range.</summary>
    public required byte[] Key { get; init; }

    /// <summary>
    /// The end of the range, exclusive. Null or empty: only <see cref="Key"/>; <c>"\0"</c>: every key
    /// from <see cref="Key"/> on (with <see cref="Key"/> <c>"\0"</c>: all keys).
    /// </summary>
    public byte[]? RangeEnd { get; init; }

    /// <summary>The maximum number of keys returned; 0 for no limit.</summary>
    public long Limit { get; init; }

    /// <summary>The revision to read at; 0 for the latest.</summary>
    public long Revision { get; init; }

    /// <summary>The sort order.</summary>
    public SortOrder SortOrder { get; init; }

    /// <summary>The sort target.</summary>
    public SortTarget SortTarget { get; init; }

    /// <summary>Return keys without values.</summary>
    public bool KeysOnly { get; init; }

    /// <summary>Return only the count.</summary>
    public bool CountOnly { get; init; }

    /// <summary>Keep only keys with a mod revision at least this (0: no filter).</summary>
    public long MinModRevision { get; init; }

    /// <summary>Keep only keys with a mod revision at most this (0: no filter).</summary>
    public long MaxModRevision { get; init; }

    /// <summary>Keep only keys with a create revision at least this (0: no filter).</summary>
    public long MinCreateRevision { get; init; }

    /// <summary>Keep only keys with a create revision at most this (0: no filter).</summary>
    public long MaxCreateRevision { get; init; }
}
