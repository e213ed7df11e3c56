using System.Buffers.Binary;

namespace Ketch.Server.Snapshots;

/// <summary>
/// The on-disk layout of a bbolt database (bbolt 1.3's page.go, node.go, db.go, bucket.go), what an
/// etcd snapshot is. Little-endian throughout. Every page starts with a 16-byte header: id u64,
/// flags u16 (branch 0x01, leaf 0x02, meta 0x04, freelist 0x10), count u16, overflow u32 (the
/// number of extra pages the page spans). Then <c>count</c> 16-byte elements, then their keys and
/// values. Leaf element: flags u32 (1: the value is a bucket), pos u32, key size u32, value size
/// u32; branch element: pos u32, key size u32, child page u64. <c>pos</c> counts from the element
/// itself to its key; the value follows the key. A branch element's key is the first key of its
/// child. Pages 0 and 1 are meta pages: magic 0xED0CDAED, version 2, page size, flags, root bucket
/// (root page u64, sequence u64), freelist page u64, high-water page id u64 (the file's page
/// count), txid u64, then the FNV-1a 64 of those 56 bytes; the valid one with the higher txid
/// wins. The root bucket's leaf values are bucket headers (root page u64, sequence u64); root
/// page 0 means an inline bucket whose single leaf page (id 0) follows the header in the value.
/// bbolt inlines a bucket when its leaf, header included, is at most a quarter of a page.
/// </summary>
internal static class BoltPage
{
    public const uint Magic = 0xED0CDAED;
    public const uint Version = 2;
    public const ushort BranchFlag = 0x01;
    public const ushort LeafFlag = 0x02;
    public const ushort MetaFlag = 0x04;
    public const ushort FreelistFlag = 0x10;
    public const uint BucketLeafFlag = 0x01;
    public const int HeaderBytes = 16;
    public const int ElementBytes = 16;
    public const int BucketHeaderBytes = 16;
    public const int MetaBytes = 64;

    /// <summary>The checksum of a meta page's first 56 bytes (Go's hash/fnv New64a).</summary>
    public static ulong Fnv1a64(ReadOnlySpan<byte> data)
    {
        var h = 14695981039346656037UL;
        foreach (var b in data)
        {
            h = (h ^ b) * 1099511628211UL;
        }
        return h;
    }

    public static void WriteHeader(Span<byte> page, ulong id, ushort flags, int count, uint overflow)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(page, id);
        BinaryPrimitives.WriteUInt16LittleEndian(page[8..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(page[10..], checked((ushort)count));
        BinaryPrimitives.WriteUInt32LittleEndian(page[12..], overflow);
    }
}
