using System.Buffers.Binary;

namespace Ketch.Server.Snapshots;

/// <summary>
/// Reads a bbolt database file (layout in <see cref="BoltPage"/>): the newer valid meta page, the
/// root bucket's entries, and each bucket's entries in key order (inline buckets too), one page in
/// memory at a time. Damage (a page beyond the file or the high-water mark, a wrong page type, a
/// tree deeper than any real one) throws <see cref="InvalidDataException"/>. bbolt's consistency
/// check (tx.Check) is not run.
/// </summary>
internal sealed class BoltReader
{
    // A B+tree of 4 KiB pages with at least two entries per branch is never this deep: a cycle.
    private const int MaxDepth = 64;

    private readonly FileStream _file;
    private readonly ulong _rootPage;
    private readonly ulong _highWaterPage;

    private BoltReader(FileStream file, uint pageSize, ulong rootPage, ulong highWaterPage)
    {
        _file = file;
        PageSize = pageSize;
        _rootPage = rootPage;
        _highWaterPage = highWaterPage;
    }

    public uint PageSize { get; }

    /// <summary>The database's size as bbolt reports it (high-water page id × page size).</summary>
    public long SizeBytes => checked((long)_highWaterPage * PageSize);

    /// <summary>Reads the meta pages; <see cref="InvalidDataException"/> ("invalid database", bbolt's
    /// word) when neither is valid.</summary>
    public static BoltReader Open(FileStream file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var first = ReadMeta(file, 0);
        var second = ReadMeta(file, first?.PageSize ?? BoltWriter.PageSize);
        var meta = (first, second) switch
        {
            (null, null) => throw new InvalidDataException("invalid database"),
            (not null, null) => first,
            (null, not null) => second,
            _ => first.TxId >= second.TxId ? first : second,
        };
        return new BoltReader(file, meta.PageSize, meta.Root, meta.HighWaterPage);
    }

    /// <summary>Whether the file starts with a bbolt meta page (magic at offset 16).</summary>
    public static bool IsBolt(FileStream file)
    {
        Span<byte> head = stackalloc byte[BoltPage.HeaderBytes + 4];
        return RandomAccess.Read(file.SafeFileHandle, head, 0) == head.Length
            && BinaryPrimitives.ReadUInt32LittleEndian(head[BoltPage.HeaderBytes..]) == BoltPage.Magic;
    }

    /// <summary>The root bucket's entries (bucket names with their bucket values) in name order.</summary>
    public IEnumerable<BoltEntry> Buckets() => Walk(ReadPage(_rootPage), 0);

    /// <summary>The entries of <paramref name="bucket"/> (an entry of <see cref="Buckets"/>).</summary>
    public IEnumerable<BoltEntry> Entries(BoltEntry bucket)
    {
        if (!bucket.IsBucket)
        {
            throw new InvalidDataException($"{System.Text.Encoding.UTF8.GetString(bucket.Key)} is not a bucket");
        }
        var bucketValue = bucket.Value;
        if (bucketValue.Length < BoltPage.BucketHeaderBytes)
        {
            throw new InvalidDataException("bucket header too short");
        }
        var root = BinaryPrimitives.ReadUInt64LittleEndian(bucketValue);
        if (root == 0 && bucketValue.Length < BoltPage.BucketHeaderBytes + BoltPage.HeaderBytes)
        {
            throw new InvalidDataException("inline bucket too short");
        }
        return Walk(root == 0 ? bucketValue[BoltPage.BucketHeaderBytes..] : ReadPage(root), 0);
    }

    /// <summary>The entries of the top-level bucket <paramref name="name"/>; none when it is absent.</summary>
    public IEnumerable<BoltEntry> Entries(ReadOnlySpan<byte> name)
    {
        foreach (var b in Buckets())
        {
            if (b.IsBucket && b.Key.AsSpan().SequenceEqual(name))
            {
                return Entries(b);
            }
        }
        return [];
    }

    private sealed record Meta(uint PageSize, ulong Root, ulong HighWaterPage, ulong TxId);

    private static Meta? ReadMeta(FileStream file, long offset)
    {
        var buf = new byte[BoltPage.HeaderBytes + BoltPage.MetaBytes];
        if (RandomAccess.Read(file.SafeFileHandle, buf, offset) != buf.Length)
        {
            return null;
        }
        var m = buf.AsSpan(BoltPage.HeaderBytes);
        if (BinaryPrimitives.ReadUInt32LittleEndian(m) != BoltPage.Magic || BinaryPrimitives.ReadUInt32LittleEndian(m[4..]) != BoltPage.Version
            || BinaryPrimitives.ReadUInt64LittleEndian(m[56..]) != BoltPage.Fnv1a64(m[..56]))
        {
            return null;
        }
        var pageSize = BinaryPrimitives.ReadUInt32LittleEndian(m[8..]);
        return pageSize is < 512 or > 1 << 20 ? null : new Meta(pageSize,
            BinaryPrimitives.ReadUInt64LittleEndian(m[16..]), BinaryPrimitives.ReadUInt64LittleEndian(m[40..]), BinaryPrimitives.ReadUInt64LittleEndian(m[48..]));
    }

    private byte[] ReadPage(ulong id)
    {
        if (id < 2 || id >= _highWaterPage)
        {
            throw new InvalidDataException($"page {id} out of bounds (high water {_highWaterPage})");
        }
        var offset = checked((long)id * PageSize);
        var header = new byte[BoltPage.HeaderBytes];
        if (RandomAccess.Read(_file.SafeFileHandle, header, offset) != header.Length)
        {
            throw new InvalidDataException($"page {id} beyond the end of the file");
        }
        var overflow = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
        if (id + overflow >= _highWaterPage)
        {
            throw new InvalidDataException($"page {id} overflows the high water mark");
        }
        var page = new byte[checked((int)((overflow + 1L) * PageSize))];
        if (RandomAccess.Read(_file.SafeFileHandle, page, offset) != page.Length)
        {
            throw new InvalidDataException($"page {id} beyond the end of the file");
        }
        return page;
    }

    /// <summary>The leaf entries under <paramref name="page"/> in key order.</summary>
    private IEnumerable<BoltEntry> Walk(byte[] page, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException("bbolt tree too deep (a page cycle?)");
        }
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(8));
        var count = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(10));
        if (BoltPage.HeaderBytes + (count * BoltPage.ElementBytes) > page.Length)
        {
            throw new InvalidDataException("page elements beyond the page");
        }
        for (var i = 0; i < count; i++)
        {
            var e = BoltPage.HeaderBytes + (i * BoltPage.ElementBytes);
            if ((flags & BoltPage.BranchFlag) != 0)
            {
                var child = BinaryPrimitives.ReadUInt64LittleEndian(page.AsSpan(e + 8));
                foreach (var x in Walk(ReadPage(child), depth + 1))
                {
                    yield return x;
                }
            }
            else if ((flags & BoltPage.LeafFlag) != 0)
            {
                var f = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(e));
                var pos = (long)e + BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(e + 4));
                var ksize = (long)BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(e + 8));
                var vsize = (long)BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(e + 12));
                if (pos + ksize + vsize > page.Length)
                {
                    throw new InvalidDataException("leaf element beyond the page");
                }
                yield return new BoltEntry(page.AsSpan((int)pos, (int)ksize).ToArray(), (f & BoltPage.BucketLeafFlag) != 0,
                    page.AsSpan((int)(pos + ksize), (int)vsize).ToArray());
            }
            else
            {
                throw new InvalidDataException($"unexpected page type {flags:x}");
            }
        }
    }
}

/// <summary>One leaf entry: its key, whether it is a nested bucket, its value (a bucket's header for a bucket).</summary>
internal readonly record struct BoltEntry(byte[] Key, bool IsBucket, byte[] Value);
