using System.Buffers.Binary;

namespace Ketch.Wal;

/// <summary>
/// The framing of one WAL record (docs/wal.md, "Record framing"):
/// <code>
/// offset 0  u32 LE  crc        CRC-32C of bytes [4, 16 + length): the rest of the header and the payload
/// offset 4  u32 LE  length     payload length in bytes
/// offset 8  u8      type       a <see cref="RecordType"/>; never 0
/// offset 9  u8[3]   reserved   zero
/// offset 12 u32 LE  headerCrc  CRC-32C of bytes [4, 12): length, type, reserved
/// offset 16 payload
///           then 1..16 bytes of trailer: zeros, and last the end mark 0xA5, so that the record
///           ends at a multiple of 16
/// </code>
/// Records start at multiples of 16, so a header never straddles a 512-byte sector. The end
/// mark is the last byte written: a record whose end mark reads as zero was never written
/// completely (torn), while a record whose end mark is present but whose CRC fails was written
/// and then damaged (corruption). docs/wal.md, "Torn tail or corruption", has the full rules.
/// </summary>
internal static class RecordFrame
{
    public const int HeaderBytes = 16;
    public const int Alignment = 16;
    public const int SectorBytes = 512;
    public const byte EndMark = 0xA5;

    /// <summary>The largest payload a record may have (a sanity bound for the reader).</summary>
    public const int MaxPayloadBytes = 1 << 30;

    /// <summary>The bytes a record occupies: header, payload and trailer (at least the end mark).</summary>
    public static long RecordLength(int payloadLength) => Align(HeaderBytes + (long)payloadLength + 1);

    public static long Align(long n) => (n + (Alignment - 1)) & ~(long)(Alignment - 1);

    public static int Align(int n) => (n + (Alignment - 1)) & ~(Alignment - 1);

    /// <summary>Starts a record: reserves its header and returns the position to pass to <see cref="End"/>.</summary>
    public static int Begin(PooledBufferWriter w)
    {
        var start = w.Length;
        w.GetSpan(HeaderBytes)[..HeaderBytes].Clear();
        w.Advance(HeaderBytes);
        return start;
    }

    /// <summary>Finishes the record begun at <paramref name="start"/>: pads, fills in the header and CRCs.</summary>
    public static void End(PooledBufferWriter w, int start, RecordType type)
    {
        var payloadLength = w.Length - start - HeaderBytes;
        if (payloadLength > MaxPayloadBytes)
        {
            throw new ArgumentException($"WAL record of {payloadLength} bytes exceeds the {MaxPayloadBytes}-byte limit");
        }
        var pad = (int)RecordLength(payloadLength) - (payloadLength + HeaderBytes);
        var trailer = w.GetSpan(pad)[..pad];
        trailer.Clear();
        trailer[^1] = EndMark;
        w.Advance(pad);
        var frame = w.Written.Slice(start, HeaderBytes + payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], (uint)payloadLength);
        frame[8] = (byte)type;
        frame[9] = frame[10] = frame[11] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(frame[12..], Crc32C.Compute(frame[4..12]));
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Crc32C.Compute(frame[4..]));
    }

    /// <summary>Checks a header's own CRC, reserved bytes and type. True when it is a valid header.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> header, out RecordType type, out int payloadLength)
    {
        payloadLength = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(header[4..]), int.MaxValue);
        type = (RecordType)header[8];
        return BinaryPrimitives.ReadUInt32LittleEndian(header[12..]) == Crc32C.Compute(header[4..12])
            && header[9] == 0 && header[10] == 0 && header[11] == 0
            && type is >= RecordType.Metadata and <= RecordType.SnapshotMarker
            && payloadLength <= MaxPayloadBytes;
    }

    /// <summary>Checks a whole record (header, payload, trailer): null when valid, else what is wrong.</summary>
    public static string? Check(ReadOnlySpan<byte> record, int payloadLength)
    {
        var frame = record[..(HeaderBytes + payloadLength)];
        if (BinaryPrimitives.ReadUInt32LittleEndian(frame) != Crc32C.Compute(frame[4..]))
        {
            return "record checksum mismatch";
        }
        var trailer = record[(HeaderBytes + payloadLength)..];
        if (trailer[^1] != EndMark)
        {
            return $"bad end mark 0x{trailer[^1]:x2}";
        }
        return trailer[..^1].ContainsAnyExcept((byte)0) ? "non-zero trailer padding" : null;
    }
}
