using System.Buffers.Binary;
using System.Security.Cryptography;
using Ketch.Server.Api;

namespace Ketch.Ctl.Snapshot;

/// <summary>
/// Reads the snapshot files older ketch versions saved (their Maintenance/Snapshot streamed the store's own
/// format, docs/mvcc.md, "Snapshot stream"; ketch now streams etcd's bbolt format):
/// <c>"KETCHSNP" | format uint32 LE | (key length | key | value length | value)* | 0xFFFFFFFF | SHA-256</c>,
/// then zero padding to a multiple of 512 bytes and the SHA-256 of all that (the shape etcdctl checks).
/// Each key starts with its bucket byte; bucket 1 holds revisions (main, sub: int64 big-endian each).
/// </summary>
internal static class KetchSnapshotReader
{
    private static readonly byte[] s_magic = "KETCHSNP"u8.ToArray();
    private const uint Format = 1;
    private const uint EndOfRecords = uint.MaxValue;
    private const byte KeyBucket = 0x01;

    public static bool IsKetch(FileStream file)
    {
        Span<byte> head = stackalloc byte[8];
        file.Position = 0;
        var n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        file.Position = 0;
        return n == head.Length && head.SequenceEqual(s_magic);
    }

    /// <summary>As etcd: the hash covers every record (for ketch: the whole key, bucket byte included, then the value);
    /// revision is the main revision of the last history record; total size is the file without its trailing hash.</summary>
    public static SnapshotStatus Status(FileStream file)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var header = Take(file, sha, 12);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8)) != Format)
        {
            throw new CtlException(ExitCode.Error, "unsupported ketch snapshot format");
        }
        uint crc = 0;
        long records = 0, revision = 0;
        while (true)
        {
            var keyLength = BinaryPrimitives.ReadUInt32LittleEndian(Take(file, sha, 4));
            if (keyLength == EndOfRecords)
            {
                break;
            }
            var key = Take(file, sha, checked((int)keyLength));
            var value = Take(file, sha, checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(file, sha, 4))));
            crc = Crc32Castagnoli.Append(Crc32Castagnoli.Append(crc, key), value);
            records++;
            if (key.Length >= 9 && key[0] == KeyBucket)
            {
                revision = BinaryPrimitives.ReadInt64BigEndian(key.AsSpan(1));
            }
        }
        var expected = new byte[32];
        if (file.ReadAtLeast(expected, expected.Length, throwOnEndOfStream: false) != expected.Length
            || !expected.AsSpan().SequenceEqual(sha.GetHashAndReset()))
        {
            throw new CtlException(ExitCode.Error, "snapshot file integrity check failed: checksum mismatch");
        }
        var size = file.Length % 512 == 32 ? file.Length - 32 : file.Length;
        return new SnapshotStatus(crc, revision, records, size);
    }

    private static byte[] Take(FileStream file, IncrementalHash sha, int count)
    {
        var bytes = new byte[count];
        if (file.ReadAtLeast(bytes, count, throwOnEndOfStream: false) != count)
        {
            throw new CtlException(ExitCode.Error, "snapshot file integrity check failed: truncated");
        }
        sha.AppendData(bytes);
        return bytes;
    }
}
