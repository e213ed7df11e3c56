using System.Buffers.Binary;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Ketch.Wal;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL record and
/// snapshot file. Uses the CPU's CRC32 instruction (SSE4.2 on x64, CRC32C on ARMv8) when there
/// is one, else slicing-by-8 tables. System.IO.Hashing is not referenced by the solution, and the
/// polynomial is the one with hardware support and better error detection than CRC-32/IEEE for
/// the record sizes we write (Castagnoli 1993; it is also what ext4, iSCSI and etcd's WAL use).
/// </summary>
internal static class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Extends <paramref name="crc"/> (a finished CRC of earlier bytes) with more bytes.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var c = ~crc;
        if (Sse42.X64.IsSupported)
        {
            c = HardwareX64(c, data);
        }
        else if (Crc32.Arm64.IsSupported)
        {
            c = HardwareArm64(c, data);
        }
        else
        {
            c = Software(c, data);
        }
        return ~c;
    }

    /// <summary>The table implementation, exposed so tests can compare it with the hardware one.</summary>
    internal static uint ComputeSoftware(ReadOnlySpan<byte> data) => ~Software(~0u, data);

    private static uint HardwareX64(uint c, ReadOnlySpan<byte> data)
    {
        ulong c64 = c;
        while (data.Length >= 8)
        {
            c64 = Sse42.X64.Crc32(c64, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        c = (uint)c64;
        foreach (var b in data)
        {
            c = Sse42.Crc32(c, b);
        }
        return c;
    }

    private static uint HardwareArm64(uint c, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            c = Crc32.Arm64.ComputeCrc32C(c, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data)
        {
            c = Crc32.ComputeCrc32C(c, b);
        }
        return c;
    }

    private static uint Software(uint c, ReadOnlySpan<byte> data)
    {
        var t = Table;
        while (data.Length >= 8)
        {
            var lo = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ c;
            var hi = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            c = t[(7 * 256) + (lo & 0xff)] ^ t[(6 * 256) + ((lo >> 8) & 0xff)]
                ^ t[(5 * 256) + ((lo >> 16) & 0xff)] ^ t[(4 * 256) + (lo >> 24)]
                ^ t[(3 * 256) + (hi & 0xff)] ^ t[(2 * 256) + ((hi >> 8) & 0xff)]
                ^ t[256 + ((hi >> 16) & 0xff)] ^ t[hi >> 24];
            data = data[8..];
        }
        foreach (var b in data)
        {
            c = t[(c ^ b) & 0xff] ^ (c >> 8);
        }
        return c;
    }

    /// <summary>Slicing-by-8 tables: table k maps a byte to its CRC contribution k bytes further on.</summary>
    private static uint[] BuildTable()
    {
        var t = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }
            t[i] = c;
        }
        for (var i = 0; i < 256; i++)
        {
            for (var k = 1; k < 8; k++)
            {
                var prev = t[((k - 1) * 256) + i];
                t[(k * 256) + i] = (prev >> 8) ^ t[prev & 0xff];
            }
        }
        return t;
    }
}
