using System.Buffers.Binary;
using Ketch.Server.Api;

namespace Ketch.Ctl.Snapshot;

/// <summary>
/// Reads an etcd snapshot, a bbolt database file, as far as <c>snapshot status</c> needs: the newer valid
/// meta page, then an in-order walk of the root bucket and of each bucket's B+tree (inline buckets too).
/// Layout (bbolt's page.go, node.go, db.go; little-endian): a page starts with id u64, flags u16, count u16,
/// overflow u32, then <c>count</c> 16-byte elements. Branch element: pos u32, key size u32, child page u64.
/// Leaf element: flags u32 (1: the value is a bucket), pos u32, key size u32, value size u32. <c>pos</c> is
/// from the element itself. Meta (pages 0 and 1, after the header): magic 0xED0CDAED, version 2, page size,
/// flags, root bucket (root page u64, sequence u64), freelist u64, high-water page id u64, txid u64, and an
/// FNV-1a 64 checksum of the 56 bytes before it. A bucket value is its header (root page, sequence); root
/// page 0 means the bucket's one leaf page follows inline. bbolt's consistency check (tx.Check) is not run.
/// </summary>
internal static class BoltReader
{
    private const uint Magic = 0xED0CDAED;
    private const uint Version = 2;
    private const ushort BranchPage = 0x01;
    private const ushort LeafPage = 0x02;
    private const uint BucketLeafFlag = 0x01;
    private const int PageHeaderBytes = 16;
    private const int ElementBytes = 16;
    private const int BucketHeaderBytes = 16;

    private sealed record Meta(uint PageSize, ulong Root, ulong HighWaterPage, ulong TxId);

    public static SnapshotStatus Status(FileStream file)
    {
        var first = ReadMeta(file, 0);
        var pageSize = first?.PageSize ?? 4096;
        var second = ReadMeta(file, pageSize);
        var meta = (first, second) switch
        {
            (null, null) => throw new CtlException(ExitCode.Error, "invalid database"),
            (not null, null) => first,
            (null, not null) => second,
            _ => first.TxId >= second.TxId ? first : second,
        };
        pageSize = meta.PageSize;
        uint crc = 0;
        long total = 0, revision = 0;
        foreach (var (name, flags, value) in Walk(file, pageSize, ReadPage(file, pageSize, meta.Root)))
        {
            if ((flags & BucketLeafFlag) == 0 || value.Length < BucketHeaderBytes)
            {
                throw new CtlException(ExitCode.Error, $"cannot get hash of bucket {System.Text.Encoding.UTF8.GetString(name)}");
            }
            crc = Crc32Castagnoli.Append(crc, name);
            var isKeyBucket = name.AsSpan().SequenceEqual("key"u8);
            var root = BinaryPrimitives.ReadUInt64LittleEndian(value);
            var page = root == 0 ? value[BucketHeaderBytes..] : ReadPage(file, pageSize, root);
            foreach (var (k, f, v) in Walk(file, pageSize, page))
            {
                // bbolt's ForEach gives a nested bucket's value as nil.
                crc = Crc32Castagnoli.Append(crc, k);
                if ((f & BucketLeafFlag) == 0)
                {
                    crc = Crc32Castagnoli.Append(crc, v);
                }
                if (isKeyBucket && k.Length >= 8)
                {
                    revision = BinaryPrimitives.ReadInt64BigEndian(k);
                }
                total++;
            }
        }
        return new SnapshotStatus(crc, revision, total, checked((long)meta.HighWaterPage * pageSize));
    }

    private static Meta? ReadMeta(FileStream file, long offset)
    {
        var buf = new byte[PageHeaderBytes + 64];
        if (RandomAccess.Read(file.SafeFileHandle, buf, offset) != buf.Length)
        {
            return null;
        }
        var m = buf.AsSpan(PageHeaderBytes);
        if (BinaryPrimitives.ReadUInt32LittleEndian(m) != Magic || BinaryPrimitives.ReadUInt32LittleEndian(m[4..]) != Version
            || BinaryPrimitives.ReadUInt64LittleEndian(m[56..]) != Fnv1a64(m[..56]))
        {
            return null;
        }
        var pageSize = BinaryPrimitives.ReadUInt32LittleEndian(m[8..]);
        return pageSize is < 512 or > 1 << 20 ? null : new Meta(pageSize,
            BinaryPrimitives.ReadUInt64LittleEndian(m[16..]), BinaryPrimitives.ReadUInt64LittleEndian(m[40..]), BinaryPrimitives.ReadUInt64LittleEndian(m[48..]));
    }

    private static byte[] ReadPage(FileStream file, uint pageSize, ulong id)
    {
        var offset = checked((long)id * pageSize);
        var header = new byte[PageHeaderBytes];
        if (RandomAccess.Read(file.SafeFileHandle, header, offset) != header.Length)
        {
            throw new CtlException(ExitCode.Error, $"page {id} beyond the end of the file");
        }
        var overflow = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
        var page = new byte[checked((int)((overflow + 1L) * pageSize))];
        var n = RandomAccess.Read(file.SafeFileHandle, page, offset);
        return n == page.Length ? page : page[..n];
    }

    /// <summary>The leaf elements under <paramref name="page"/> in key order: key, flags, value.</summary>
    private static IEnumerable<(byte[] Key, uint Flags, byte[] Value)> Walk(FileStream file, uint pageSize, byte[] page)
    {
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(8));
        var count = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(10));
        for (var i = 0; i < count; i++)
        {
            var e = PageHeaderBytes + (i * ElementBytes);
            if ((flags & BranchPage) != 0)
            {
                var child = BinaryPrimitives.ReadUInt64LittleEndian(page.AsSpan(e + 8));
                foreach (var x in Walk(file, pageSize, ReadPage(file, pageSize, child)))
                {
                    yield return x;
                }
            }
            else if ((flags & LeafPage) != 0)
            {
                var f = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(e));
                var pos = e + (int)BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(e + 4));
                var ksize = (int)BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(e + 8));
                var vsize = (int)BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(e + 12));
                yield return (page.AsSpan(pos, ksize).ToArray(), f, page.AsSpan(pos + ksize, vsize).ToArray());
            }
            else
            {
                throw new CtlException(ExitCode.Error, $"unexpected page type {flags:x}");
            }
        }
    }

    private static ulong Fnv1a64(ReadOnlySpan<byte> data)
    {
        var h = 14695981039346656037UL;
        foreach (var b in data)
        {
            h = (h ^ b) * 1099511628211UL;
        }
        return h;
    }
}
