namespace Ketch.Ctl.Snapshot;

/// <summary>CRC-32C (Castagnoli), the hash etcd's <c>snapshot status</c> reports; table-driven (status reads a file once).</summary>
internal static class Crc32C
{
    private static readonly uint[] s_table = Build();

    /// <summary>Extends <paramref name="crc"/> (the CRC of earlier bytes, 0 at first) with <paramref name="data"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        foreach (var b in data)
        {
            crc = s_table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return ~crc;
    }

    private static uint[] Build()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            }
            t[i] = c;
        }
        return t;
    }
}
