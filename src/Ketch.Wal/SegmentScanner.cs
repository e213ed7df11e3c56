namespace Ketch.Wal;

/// <summary>One record found in a segment.</summary>
internal readonly record struct ScannedRecord(RecordType Type, ReadOnlyMemory<byte> Payload, long Offset);

/// <summary>What a segment holds: its valid records, where they end, and whether the bytes after
/// them must be zeroed (a torn tail) before appending there.</summary>
internal sealed class SegmentScan
{
    public required string Path { get; init; }

    public required List<ScannedRecord> Records { get; init; }

    /// <summary>The offset just past the last valid record (16-aligned): where appends resume.</summary>
    public required long EndOffset { get; init; }

    /// <summary>True when non-zero bytes (a torn record, or pieces of an unsynced batch) lie after <see cref="EndOffset"/>.</summary>
    public required bool NeedsRepair { get; init; }

    /// <summary>The offset just past the last non-zero byte of the file.</summary>
    public required long DataEnd { get; init; }

    public required long FileLength { get; init; }
}

/// <summary>
/// Reads the records of one segment and decides, for the first bad one, whether it is a torn
/// tail (repaired by truncation) or corruption (an error naming file and offset). The rules are
/// those of docs/wal.md, "Torn tail or corruption":
/// <list type="number">
/// <item>Only the last segment can have a torn tail: a segment is fsynced before the next is
/// created, so damage in any earlier one is corruption.</item>
/// <item>A header of 16 zero bytes is the end of the log (preallocated space).</item>
/// <item>A non-zero header that fails its own CRC is torn when only zeros follow it (a write
/// cut short inside it), else corruption.</item>
/// <item>A valid header whose record runs past the end of the file is torn. A record that fails
/// its CRC or trailer check is torn when its end mark (last byte) is zero or one of the 512-byte
/// sectors it covers is all zeros (never written), else corruption (written whole, then damaged).</item>
/// <item>After the end of the log, non-zero bytes further than one batch
/// (<see cref="WalOptions.MaxBatchBytes"/>) from it are corruption: one unsynced write cannot reach
/// there, so they are synced records behind a zeroed hole.</item>
/// </list>
/// </summary>
internal static class SegmentScanner
{
    public static SegmentScan Scan(string path, byte[] bytes, bool isLast, int tailWindowBytes)
    {
        var records = new List<ScannedRecord>();
        var len = bytes.Length;
        long pos = 0;
        var torn = false;
        long tornFrameLength = 0;
        while (pos < len)
        {
            var p = (int)pos;
            if (len - p < RecordFrame.HeaderBytes)
            {
                if (!IsZero(bytes.AsSpan(p)))
                {
                    torn = isLast ? true : throw Corrupt(path, pos, "truncated record header at the end of a sealed segment");
                }
                break;
            }
            var header = bytes.AsSpan(p, RecordFrame.HeaderBytes);
            if (IsZero(header))
            {
                break;
            }
            if (!RecordFrame.TryReadHeader(header, out var type, out var payloadLength))
            {
                // A write cut short inside the header (a process killed mid-write leaves a byte
                // prefix in the page cache) is followed by nothing; a damaged header of a written
                // record is followed by the rest of that record.
                if (isLast && IsZero(bytes.AsSpan(p + RecordFrame.HeaderBytes)))
                {
                    torn = true;
                    tornFrameLength = RecordFrame.HeaderBytes;
                    break;
                }
                throw Corrupt(path, pos, "invalid record header (header checksum, type or reserved bytes)");
            }
            var recordEnd = pos + RecordFrame.RecordLength(payloadLength);
            if (recordEnd > len)
            {
                if (!isLast)
                {
                    throw Corrupt(path, pos, $"record of {payloadLength} bytes runs past the end of a sealed segment ({len} bytes)");
                }
                torn = true;
                tornFrameLength = recordEnd - pos;
                break;
            }
            var record = bytes.AsSpan(p, (int)(recordEnd - pos));
            if (RecordFrame.Check(record, payloadLength) is { } problem)
            {
                // Torn: never completely written (its end mark, the last byte, reads as zero, or a
                // sector of it was never written). Otherwise it was written whole and then damaged.
                if (isLast && (record[^1] == 0 || HasUnwrittenSector(bytes, pos, recordEnd)))
                {
                    torn = true;
                    tornFrameLength = recordEnd - pos;
                    break;
                }
                throw Corrupt(path, pos, $"{problem} ({type}, {payloadLength} bytes)");
            }
            records.Add(new ScannedRecord(type, bytes.AsMemory(p + RecordFrame.HeaderBytes, payloadLength), pos));
            pos = recordEnd;
        }
        // Frames are 16-aligned; a file cut inside a record's padding ends before pos.
        var end = Math.Min(pos, len);
        var dataEnd = LastNonZero(bytes, end) + 1;
        if (dataEnd > end)
        {
            var window = Math.Max(tailWindowBytes, tornFrameLength);
            if (!isLast)
            {
                throw Corrupt(path, end, $"non-zero bytes after the end of the records of a sealed segment (up to offset {dataEnd})");
            }
            if (dataEnd > end + window)
            {
                throw Corrupt(path, end, $"the log ends here but non-zero bytes follow up to offset {dataEnd}, beyond one write batch ({window} bytes): synced records behind a hole?");
            }
        }
        return new SegmentScan
        {
            Path = path,
            Records = records,
            EndOffset = pos,
            NeedsRepair = torn || dataEnd > end || pos > len,
            DataEnd = Math.Max(dataEnd, end),
            FileLength = len,
        };
    }

    /// <summary>Whether some 512-byte sector overlapping [from, to) is all zeros: a sector the
    /// crash never wrote. (The sector holding the header is not zero, by construction.)</summary>
    private static bool HasUnwrittenSector(byte[] bytes, long from, long to)
    {
        for (var s = from / RecordFrame.SectorBytes * RecordFrame.SectorBytes; s < to; s += RecordFrame.SectorBytes)
        {
            var n = (int)Math.Min(RecordFrame.SectorBytes, bytes.Length - s);
            if (IsZero(bytes.AsSpan((int)s, n)))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsZero(ReadOnlySpan<byte> span) => !span.ContainsAnyExcept((byte)0);

    private static long LastNonZero(byte[] bytes, long from)
    {
        var i = bytes.AsSpan((int)from).LastIndexOfAnyExcept((byte)0);
        return i < 0 ? from - 1 : from + i;
    }

    private static WalCorruptionException Corrupt(string path, long offset, string reason) => new(path, offset, reason);
}
