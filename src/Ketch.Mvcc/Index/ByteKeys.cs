namespace Ketch.Mvcc.Index;

/// <summary>Key helpers: etcd orders keys as unsigned byte strings.</summary>
internal static class ByteKeys
{
    /// <summary>Equality and hashing for byte-array dictionary keys.</summary>
    public static readonly IEqualityComparer<byte[]> EqualityComparer = new ArrayEquality();

    /// <summary>Unsigned lexicographic comparison (memcmp, shorter first on a common prefix).</summary>
    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);

    /// <summary>
    /// True when <paramref name="key"/> lies in [<paramref name="start"/>, <paramref name="end"/>), with etcd's
    /// conventions: a null or empty end means the single key, the end <c>"\0"</c> means no upper bound.
    /// </summary>
    public static bool InRange(ReadOnlySpan<byte> key, byte[] start, byte[]? end)
    {
        if (end is null || end.Length == 0)
        {
            return key.SequenceEqual(start);
        }

        return Compare(key, start) >= 0 && (IsOpenEnd(end) || Compare(key, end) < 0);
    }

    /// <summary>True for etcd's range end <c>"\0"</c>: every key from the start key on.</summary>
    public static bool IsOpenEnd(byte[]? end) => end is { Length: 1 } && end[0] == 0;

    private sealed class ArrayEquality : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

        // Span lookups (the index rebuild reads keys in place from RocksDB) hash as the arrays do.
        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var h = new HashCode();
            h.AddBytes(alternate);
            return h.ToHashCode();
        }

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
