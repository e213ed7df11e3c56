namespace Ketch.Raft;

/// <summary>Size limits on runs of entries (messages, Ready batches).</summary>
internal static class LogLimits
{
    /// <summary>No limit.</summary>
    public const long NoLimit = long.MaxValue;

    /// <summary>The longest prefix of <paramref name="entries"/> whose total size fits in
    /// <paramref name="maxBytes"/>, but never less than one entry, so progress is always made.</summary>
    public static ReadOnlyMemory<Entry> LimitSize(ReadOnlyMemory<Entry> entries, long maxBytes)
    {
        if (entries.Length <= 1 || maxBytes == NoLimit)
        {
            return entries;
        }
        var span = entries.Span;
        var size = span[0].SizeBytes;
        var n = 1;
        for (; n < span.Length; n++)
        {
            size += span[n].SizeBytes;
            if (size > maxBytes)
            {
                break;
            }
        }
        return entries[..n];
    }

    /// <summary>The sum of payload sizes, which the uncommitted-size limit counts.</summary>
    public static long PayloadBytes(ReadOnlySpan<Entry> entries)
    {
        long size = 0;
        foreach (var e in entries)
        {
            size += e.Data.Length;
        }
        return size;
    }
}
