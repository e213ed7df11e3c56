using System.Buffers.Binary;

namespace Ketch.Server.Snapshots;

/// <summary>
/// Writes a bbolt database (layout in <see cref="BoltPage"/>) from sorted input, streaming: each
/// bucket's B+tree is built bottom-up, leaf pages written in key order as they fill, and only the
/// first key of every leaf (its branch entry) kept in memory; then the branch levels, then the
/// root bucket, then the freelist (empty) and both meta pages, which are written last at the
/// start of the file. Buckets must be added in byte order of their names, keys in byte order
/// inside a bucket; the result passes bbolt's <c>tx.Check</c> (every page below the high-water
/// mark is reachable exactly once). The output must be seekable and start empty.
/// </summary>
internal sealed class BoltWriter
{
    /// <summary>bbolt's default page size on Linux (the OS page size).</summary>
    public const int PageSize = 4096;

    private const ulong FreelistPageId = 2;
    private const ulong FirstDataPage = 3;

    private readonly Stream _output;
    private readonly TreeBuilder _root;
    private TreeBuilder? _bucket;
    private byte[]? _bucketName;
    private ulong _nextPage = FirstDataPage;
    private bool _finished;

    public BoltWriter(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!output.CanSeek || output.Length != 0)
        {
            throw new ArgumentException("the output must be an empty, seekable stream", nameof(output));
        }
        _output = output;
        _root = new TreeBuilder(this);
        // Meta pages and the freelist come last (they name the root page); reserve their place.
        _output.Write(new byte[PageSize * (int)FirstDataPage]);
    }

    /// <summary>Starts the bucket <paramref name="name"/>; names must come in ascending byte order.</summary>
    public void BeginBucket(ReadOnlySpan<byte> name)
    {
        if (_bucket is not null || _finished)
        {
            throw new InvalidOperationException("end the current bucket first");
        }
        _bucketName = name.ToArray();
        _bucket = new TreeBuilder(this);
    }

    /// <summary>Adds an entry to the current bucket; keys must be non-empty and ascending.</summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var bucket = _bucket ?? throw new InvalidOperationException("no bucket started");
        bucket.Add(key.ToArray(), value.ToArray(), 0);
    }

    /// <summary>Ends the current bucket: small ones are inlined in the root, as bbolt does.</summary>
    public void EndBucket()
    {
        var bucket = _bucket ?? throw new InvalidOperationException("no bucket started");
        var value = bucket.Finish(allowInline: true);
        _root.Add(_bucketName!, value, BoltPage.BucketLeafFlag);
        _bucket = null;
        _bucketName = null;
    }

    /// <summary>Writes the root bucket, the freelist and the meta pages. Returns the database's
    /// size in bytes (what etcd's snapshot status calls total size).</summary>
    public long Finish()
    {
        if (_bucket is not null)
        {
            throw new InvalidOperationException("end the current bucket first");
        }
        if (_finished)
        {
            throw new InvalidOperationException("already finished");
        }
        _finished = true;
        var rootHeader = _root.Finish(allowInline: false);
        var rootPage = BinaryPrimitives.ReadUInt64LittleEndian(rootHeader);
        var end = _output.Position;

        var head = new byte[PageSize * (int)FirstDataPage];
        for (var txid = 0; txid < 2; txid++)
        {
            var page = head.AsSpan(txid * PageSize, PageSize);
            BoltPage.WriteHeader(page, (ulong)txid, BoltPage.MetaFlag, 0, 0);
            var m = page[BoltPage.HeaderBytes..];
            BinaryPrimitives.WriteUInt32LittleEndian(m, BoltPage.Magic);
            BinaryPrimitives.WriteUInt32LittleEndian(m[4..], BoltPage.Version);
            BinaryPrimitives.WriteUInt32LittleEndian(m[8..], PageSize);
            BinaryPrimitives.WriteUInt32LittleEndian(m[12..], 0);
            BinaryPrimitives.WriteUInt64LittleEndian(m[16..], rootPage);
            BinaryPrimitives.WriteUInt64LittleEndian(m[24..], 0);
            BinaryPrimitives.WriteUInt64LittleEndian(m[32..], FreelistPageId);
            BinaryPrimitives.WriteUInt64LittleEndian(m[40..], _nextPage);
            // Two valid metas as bbolt's init writes them (txid 0 and 1): a reader takes either.
            BinaryPrimitives.WriteUInt64LittleEndian(m[48..], (ulong)txid);
            BinaryPrimitives.WriteUInt64LittleEndian(m[56..], BoltPage.Fnv1a64(m[..56]));
        }
        BoltPage.WriteHeader(head.AsSpan((int)FreelistPageId * PageSize), FreelistPageId, BoltPage.FreelistFlag, 0, 0);
        _output.Position = 0;
        _output.Write(head);
        _output.Position = end;
        return checked((long)_nextPage * PageSize);
    }

    /// <summary>Writes one leaf or branch page (with overflow pages when one element is larger than
    /// a page) at the next page id and returns that id.</summary>
    private ulong WritePage(bool leaf, List<Item> items, int bytes)
    {
        var pages = (bytes + PageSize - 1) / PageSize;
        var buffer = new byte[pages * PageSize];
        var id = _nextPage;
        BoltPage.WriteHeader(buffer, id, leaf ? BoltPage.LeafFlag : BoltPage.BranchFlag, items.Count, (uint)(pages - 1));
        WriteElements(buffer, leaf, items);
        _output.Write(buffer);
        _nextPage += (ulong)pages;
        return id;
    }

    /// <summary>Elements after the header, then keys (and values) in element order.</summary>
    private static void WriteElements(Span<byte> page, bool leaf, List<Item> items)
    {
        var data = BoltPage.HeaderBytes + (items.Count * BoltPage.ElementBytes);
        for (var i = 0; i < items.Count; i++)
        {
            var e = BoltPage.HeaderBytes + (i * BoltPage.ElementBytes);
            var item = items[i];
            var elem = page[e..];
            if (leaf)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(elem, item.Flags);
                BinaryPrimitives.WriteUInt32LittleEndian(elem[4..], (uint)(data - e));
                BinaryPrimitives.WriteUInt32LittleEndian(elem[8..], (uint)item.Key.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(elem[12..], (uint)item.Value.Length);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(elem, (uint)(data - e));
                BinaryPrimitives.WriteUInt32LittleEndian(elem[4..], (uint)item.Key.Length);
                BinaryPrimitives.WriteUInt64LittleEndian(elem[8..], item.Child);
            }
            item.Key.CopyTo(page[data..]);
            data += item.Key.Length;
            if (leaf)
            {
                item.Value.CopyTo(page[data..]);
                data += item.Value.Length;
            }
        }
    }

    private readonly record struct Item(byte[] Key, byte[] Value, uint Flags, ulong Child);

    /// <summary>One B+tree being built: the leaf being filled and the branch entries of the leaves written.</summary>
    private sealed class TreeBuilder(BoltWriter writer)
    {
        private readonly List<Item> _leaf = [];
        private readonly List<Item> _children = [];
        private int _leafBytes = BoltPage.HeaderBytes;
        private byte[]? _lastKey;

        public void Add(byte[] key, byte[] value, uint flags)
        {
            if (key.Length == 0)
            {
                throw new ArgumentException("bbolt keys cannot be empty", nameof(key));
            }
            if (_lastKey is not null && key.AsSpan().SequenceCompareTo(_lastKey) <= 0)
            {
                throw new ArgumentException("keys must be added in ascending order", nameof(key));
            }
            _lastKey = key;
            var size = BoltPage.ElementBytes + key.Length + value.Length;
            if (_leaf.Count > 0 && _leafBytes + size > PageSize)
            {
                FlushLeaf();
            }
            _leaf.Add(new Item(key, value, flags, 0));
            _leafBytes += size;
        }

        /// <summary>Writes what is left and the branch levels; returns the bucket's value in its
        /// parent: the bucket header (root page, sequence 0), or header + leaf for an inline bucket.</summary>
        public byte[] Finish(bool allowInline)
        {
            if (allowInline && _children.Count == 0 && _leafBytes <= PageSize / 4)
            {
                var inline = new byte[BoltPage.BucketHeaderBytes + _leafBytes];
                var page = inline.AsSpan(BoltPage.BucketHeaderBytes);
                BoltPage.WriteHeader(page, 0, BoltPage.LeafFlag, _leaf.Count, 0);
                WriteElements(page, leaf: true, _leaf);
                return inline;
            }
            if (_leaf.Count > 0 || _children.Count == 0)
            {
                FlushLeaf();
            }
            var level = _children;
            while (level.Count > 1)
            {
                level = WriteBranchLevel(level);
            }
            var header = new byte[BoltPage.BucketHeaderBytes];
            BinaryPrimitives.WriteUInt64LittleEndian(header, level[0].Child);
            return header;
        }

        private void FlushLeaf()
        {
            var id = writer.WritePage(leaf: true, _leaf, _leafBytes);
            var first = _leaf.Count > 0 ? _leaf[0].Key : [];
            _children.Add(new Item(first, [], 0, id));
            _leaf.Clear();
            _leafBytes = BoltPage.HeaderBytes;
        }

        private List<Item> WriteBranchLevel(List<Item> children)
        {
            var parents = new List<Item>();
            var page = new List<Item>();
            var bytes = BoltPage.HeaderBytes;
            foreach (var child in children)
            {
                var size = BoltPage.ElementBytes + child.Key.Length;
                if (page.Count > 0 && bytes + size > PageSize)
                {
                    parents.Add(new Item(page[0].Key, [], 0, writer.WritePage(leaf: false, page, bytes)));
                    page.Clear();
                    bytes = BoltPage.HeaderBytes;
                }
                page.Add(child);
                bytes += size;
            }
            parents.Add(new Item(page[0].Key, [], 0, writer.WritePage(leaf: false, page, bytes)));
            return parents;
        }
    }
}
