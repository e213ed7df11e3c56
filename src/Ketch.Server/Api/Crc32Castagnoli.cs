namespace Ketch.Server.Api;

/// <summary>CRC-32C (Castagnoli), the checksum etcd's Hash and HashKV and etcdctl's
/// <c>snapshot status</c> report (public for ketchctl, which reads snapshot files).</summary>
public static class Crc32Castagnoli
{
    private static readonly uint[] s_table = Build();

    /// <summary>Extends <paramref name="crc"/> (the CRC of earlier bytes, 0 at first) with <paramref name="data"/>.</summary>
    /// <param name="crc">The CRC so far.</param>
    /// <param name="data">The next bytes.</param>
    /// <returns>The CRC including <paramref name="data"/>.</returns>
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
