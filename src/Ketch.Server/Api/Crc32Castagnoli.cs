namespace Ketch.Server.Api;

/// <summary>CRC-32C (Castagnoli), the checksum etcd's Hash and HashKV report.</summary>
internal static class Crc32Castagnoli
{
    private static readonly uint[] s_table = Build();

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
