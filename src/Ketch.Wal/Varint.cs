namespace Ketch.Wal;

/// <summary>Unsigned LEB128 varints, the same encoding the Raft records use (docs/raft-encoding.md),
/// for the WAL's own small records (snapshot markers, metadata ids). Ketch.Raft keeps its varint
/// writer internal.</summary>
internal static class Varint
{
    public static void Write(PooledBufferWriter w, ulong value)
    {
        var span = w.GetSpan(10);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        w.Advance(n);
    }

    /// <summary>Reads a varint at <paramref name="pos"/>; false when truncated or longer than 64 bits.</summary>
    public static bool TryRead(ReadOnlySpan<byte> span, ref int pos, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && pos < span.Length; shift += 7)
        {
            var b = span[pos++];
            if (shift == 63 && b > 1)
            {
                return false;
            }
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }
        return false;
    }
}
