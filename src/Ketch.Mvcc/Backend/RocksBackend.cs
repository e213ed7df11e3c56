using Ketch.Mvcc.Backend.Rocks;

namespace Ketch.Mvcc.Backend;

/// <summary>
/// The persistent backend: one RocksDB instance holding every bucket (<see cref="BackendBucket"/>).
/// Writes accumulate in one pending <see cref="RocksWriteBatch"/> that <see cref="Commit"/> writes
/// atomically, so data and metadata (consistent index) of a batch land together or not at all.
/// Reads see pending writes first (read-your-writes), then a bounded cache, then RocksDB.
/// Not thread-safe: the store serialises access.
/// </summary>
internal sealed class RocksBackend : IDisposable
{
    private readonly RocksDatabase _db;
    private readonly RocksWriteOptions _writeOptions;
    private readonly RocksWriteBatch _batch = new();
    private readonly List<(Revision Rev, KeyValue Kv)> _pendingList = [];
    private readonly Dictionary<Revision, KeyValue> _pendingRevs = [];
    private readonly Dictionary<byte[], byte[]?> _pendingBuckets = new(Index.ByteKeys.EqualityComparer);
    private readonly RevisionCache _cache;
    private byte[] _encodeBuffer = new byte[4096];
    private long _sizeBytes;
    private long _sizeInUseBytes;
    private long _pendingBytes;
    private bool _disposed;

    public RocksBackend(string directory, bool syncWrites, long cacheBytes)
    {
        Directory.CreateDirectory(directory);
        // Memtables of 16 MiB instead of RocksDB's 64 MiB: writes reach RocksDB in large batches
        // already (one per store commit), and every memtable is resident memory on top of the index.
        _db = RocksDatabase.Open(directory, createIfMissing: true, parallelism: 2, writeBufferBytes: 16UL << 20);
        _writeOptions = new RocksWriteOptions(syncWrites);
        _cache = new RevisionCache(cacheBytes);
        RefreshSizes();
    }

    /// <summary>The database; a use after close throws rather than touching freed native memory.</summary>
    private RocksDatabase Db
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _db;
        }
    }

    /// <summary>The number of operations waiting in the pending batch.</summary>
    public int PendingOps { get; private set; }

    /// <summary>Adds the record of <paramref name="rev"/> to the pending batch.</summary>
    public void PutRevision(Revision rev, KeyValue kv)
    {
        Span<byte> key = stackalloc byte[KvCodec.RevisionKeyLength];
        KvCodec.WriteRevisionKey(key, rev);
        var max = KvCodec.MaxEncodedLength(kv);
        if (_encodeBuffer.Length < max)
        {
            _encodeBuffer = new byte[Math.Max(max, _encodeBuffer.Length * 2)];
        }

        var n = KvCodec.Encode(kv, _encodeBuffer);
        _batch.Put(key, _encodeBuffer.AsSpan(0, n));
        _pendingList.Add((rev, kv));
        _pendingRevs[rev] = kv;
        PendingOps++;
        AddPending(key.Length + n);
    }

    /// <summary>Adds the deletion of <paramref name="rev"/> (compaction) to the pending batch.</summary>
    public void DeleteRevision(Revision rev)
    {
        Span<byte> key = stackalloc byte[KvCodec.RevisionKeyLength];
        KvCodec.WriteRevisionKey(key, rev);
        _batch.Delete(key);
        _cache.Remove(rev);
        PendingOps++;
        AddPending(key.Length);
    }

    /// <summary>The record of <paramref name="rev"/>, or null if there is none.</summary>
    public KeyValue? GetRevision(Revision rev)
    {
        if (_pendingRevs.TryGetValue(rev, out var kv) || _cache.TryGet(rev, out kv))
        {
            return kv;
        }

        Span<byte> key = stackalloc byte[KvCodec.RevisionKeyLength];
        KvCodec.WriteRevisionKey(key, rev);
        var raw = Db.Get(key);
        if (raw is null)
        {
            return null;
        }

        kv = KvCodec.Decode(raw, rev.Main);
        _cache.Add(rev, kv);
        return kv;
    }

    /// <summary>
    /// The records from <paramref name="from"/> on, in revision order, pending ones included.
    /// Lazy; valid while the caller holds the store's lock.
    /// </summary>
    public IEnumerable<(Revision Rev, KeyValue Kv)> ScanRevisions(Revision from)
    {
        using (var it = Db.NewIterator(UpperBound(BackendBucket.Key)))
        {
            for (it.Seek(KvCodec.RevisionKey(from)); it.Valid(); it.Next())
            {
                var rev = KvCodec.ReadRevisionKey(it.Key);
                if (!_cache.TryGet(rev, out var kv))
                {
                    kv = KvCodec.Decode(it.Value, rev.Main);
                }

                yield return (rev, kv);
            }
        }

        var start = FirstPendingAtOrAfter(from);
        for (var i = start; i < _pendingList.Count; i++)
        {
            yield return _pendingList[i];
        }
    }

    /// <summary>
    /// Calls <paramref name="visit"/> for every committed revision record in revision order with only
    /// what the key index needs (see <see cref="KvCodec.DecodeIndexFields"/>): the rebuild at open.
    /// Decoding whole records there copied every value: opening 1,000,000 keys of 256 B allocated
    /// 608 MB and took 6.7 s that way, 280 MB and 3.0 s this way. The block cache is not filled:
    /// the scan reads every block once.
    /// </summary>
    public void ScanIndexRecords(IndexRecordVisitor visit)
    {
        using var it = Db.NewIterator(UpperBound(BackendBucket.Key), fillCache: false);
        for (it.Seek([(byte)BackendBucket.Key]); it.Valid(); it.Next())
        {
            var rev = KvCodec.ReadRevisionKey(it.Key);
            var key = KvCodec.DecodeIndexFields(it.Value, rev.Main, out var create, out var version, out var lease);
            visit(rev, key, create, version, lease);
        }
    }

    /// <summary>
    /// Up to <paramref name="max"/> committed revisions from <paramref name="from"/> with a main revision
    /// below <paramref name="belowMain"/>, keys only (compaction).
    /// </summary>
    public List<Revision> CommittedRevisionsBelow(Revision from, long belowMain, int max)
    {
        var result = new List<Revision>();
        using var it = Db.NewIterator(KvCodec.RevisionKey(new Revision(belowMain, 0)), fillCache: false);
        for (it.Seek(KvCodec.RevisionKey(from)); it.Valid() && result.Count < max; it.Next())
        {
            result.Add(KvCodec.ReadRevisionKey(it.Key));
        }

        return result;
    }

    /// <summary>Adds a put of a bucket entry to the pending batch.</summary>
    public void PutBucket(BackendBucket bucket, ReadOnlySpan<byte> key, byte[] value)
    {
        var full = BucketKey(bucket, key);
        _batch.Put(full, value);
        _pendingBuckets[full] = value;
        PendingOps++;
        AddPending(full.Length + value.Length);
    }

    /// <summary>Adds a deletion of a bucket entry to the pending batch.</summary>
    public void DeleteBucket(BackendBucket bucket, ReadOnlySpan<byte> key)
    {
        var full = BucketKey(bucket, key);
        _batch.Delete(full);
        _pendingBuckets[full] = null;
        PendingOps++;
        AddPending(full.Length);
    }

    /// <summary>A bucket entry, pending writes included; null if absent.</summary>
    public byte[]? GetBucket(BackendBucket bucket, ReadOnlySpan<byte> key)
    {
        var full = BucketKey(bucket, key);
        return _pendingBuckets.TryGetValue(full, out var pending) ? pending : Db.Get(full);
    }

    /// <summary>Every entry of a bucket in key order (committed and pending), without the bucket byte.</summary>
    public List<KeyValuePair<byte[], byte[]>> ReadBucket(BackendBucket bucket)
    {
        var result = new SortedDictionary<byte[], byte[]?>(Comparer<byte[]>.Create((a, b) => Index.ByteKeys.Compare(a, b)));
        using (var it = Db.NewIterator(UpperBound(bucket)))
        {
            for (it.Seek([(byte)bucket]); it.Valid(); it.Next())
            {
                result[it.Key[1..].ToArray()] = it.Value.ToArray();
            }
        }

        foreach (var (full, value) in _pendingBuckets)
        {
            if (full[0] == (byte)bucket)
            {
                result[full[1..]] = value;
            }
        }

        return [.. result.Where(p => p.Value is not null).Select(p => new KeyValuePair<byte[], byte[]>(p.Key, p.Value!))];
    }

    /// <summary>
    /// Writes the pending batch atomically. Its revisions do not go into the cache: the cache fills
    /// on reads. Caching every write kept each put's record alive for a while and then let it die
    /// old, which is what a generational GC pays most for (a busy member spent more time in GC
    /// pauses than in its own apply); a read of a fresh revision finds it in RocksDB's memtable.
    /// </summary>
    public void Commit()
    {
        if (PendingOps == 0)
        {
            return;
        }

        Db.Write(_batch, _writeOptions);
        _batch.Clear();
        _pendingList.Clear();
        _pendingRevs.Clear();
        _pendingBuckets.Clear();
        PendingOps = 0;
        // Sizes first, then the pending bytes: a reader in between counts the batch twice, never
        // not at all.
        RefreshSizes();
        Volatile.Write(ref _pendingBytes, 0);
    }

    /// <summary>
    /// Writes every committed entry, read from one RocksDB snapshot, to <paramref name="sink"/>.
    /// Pending writes are not included: commit first.
    /// </summary>
    public void ForEachCommitted(RocksSnapshot snapshot, Action<ReadOnlySpan<byte>, ReadOnlySpan<byte>> sink)
    {
        using var it = Db.NewIterator(snapshot: snapshot, fillCache: false);
        for (it.SeekToFirst(); it.Valid(); it.Next())
        {
            sink(it.Key, it.Value);
        }
    }

    /// <summary>
    /// The committed entries of <paramref name="bucket"/> in one RocksDB snapshot, in key order, keys
    /// without the bucket byte; from <paramref name="from"/> (bucket byte excluded) when given. Lazy:
    /// one entry in memory at a time.
    /// </summary>
    public IEnumerable<(byte[] Key, byte[] Value)> ScanSnapshot(RocksSnapshot snapshot, BackendBucket bucket, byte[]? from = null)
    {
        using var it = Db.NewIterator(UpperBound(bucket), snapshot, fillCache: false);
        for (it.Seek(from is null ? [(byte)bucket] : BucketKey(bucket, from)); it.Valid(); it.Next())
        {
            yield return (it.Key[1..].ToArray(), it.Value.ToArray());
        }
    }

    /// <summary>A consistent view of the committed data; dispose it when done.</summary>
    public RocksSnapshot TakeSnapshot() => Db.CreateSnapshot();

    /// <summary>Writes a raw entry directly (restore from a snapshot stream), batched by the caller.</summary>
    public void WriteRaw(RocksWriteBatch batch) => Db.Write(batch, _writeOptions);

    /// <summary>
    /// Total bytes of the database files and memtables as of the last commit, plus the bytes of the
    /// pending batch. Read without the store's lock on every write request (quota check) and valid
    /// after close: plain fields, never a native call on a database that a snapshot install may
    /// have closed meanwhile. The pending batch counts because it is committed only by size or by a
    /// timer (every 100 ms): a quota check that saw only committed bytes let a burst of writes run
    /// past the quota for as long as that timer was late.
    /// </summary>
    public long SizeBytes => Volatile.Read(ref _sizeBytes) + Volatile.Read(ref _pendingBytes);

    /// <summary>Estimated bytes of live data (what a full compaction would leave), as of the last commit.</summary>
    public long SizeInUseBytes => Volatile.Read(ref _sizeInUseBytes);

    /// <summary>Compacts the whole key space now (RocksDB flushes the memtable first), dropping
    /// what deletes and compactions left behind, then refreshes the sizes.</summary>
    public void Defragment()
    {
        Db.CompactRange([], []);
        RefreshSizes();
    }

    /// <summary>Asks RocksDB to compact the revision range below <paramref name="main"/> now.</summary>
    public void CompactRevisionsBelow(long main) =>
        Db.CompactRange(KvCodec.RevisionKey(new Revision(0, 0)), KvCodec.RevisionKey(new Revision(main, 0)));

    /// <summary>Closes RocksDB after committing the pending batch.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        Commit();
        Close();
    }

    /// <summary>Closes RocksDB dropping the pending batch, as a crash would.</summary>
    public void DisposeWithoutCommit()
    {
        if (!_disposed)
        {
            Close();
        }
    }

    private void Close()
    {
        _disposed = true;
        _batch.Dispose();
        _writeOptions.Dispose();
        _db.Dispose();
    }

    /// <summary>Counts bytes written to the pending batch; only the store's writer (under its lock)
    /// calls it, readers read the field without a lock.</summary>
    private void AddPending(int bytes) => Volatile.Write(ref _pendingBytes, _pendingBytes + bytes);

    private long Property(string name) => long.TryParse(Db.GetProperty(name), out var v) ? v : 0;

    private void RefreshSizes()
    {
        var memtables = Property("rocksdb.cur-size-all-mem-tables");
        Volatile.Write(ref _sizeBytes, Property("rocksdb.total-sst-files-size") + memtables);
        Volatile.Write(ref _sizeInUseBytes, Property("rocksdb.estimate-live-data-size") + memtables);
    }

    private int FirstPendingAtOrAfter(Revision from)
    {
        int lo = 0, hi = _pendingList.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_pendingList[mid].Rev < from)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>The exclusive upper bound of a bucket's keys: the next bucket's byte.</summary>
    private static byte[] UpperBound(BackendBucket bucket) => [(byte)((byte)bucket + 1)];

    private static byte[] BucketKey(BackendBucket bucket, ReadOnlySpan<byte> key)
    {
        var full = new byte[key.Length + 1];
        full[0] = (byte)bucket;
        key.CopyTo(full.AsSpan(1));
        return full;
    }
}

/// <summary>One revision record as the index rebuild sees it; <paramref name="createRevision"/> is 0 for a tombstone.</summary>
internal delegate void IndexRecordVisitor(Revision rev, ReadOnlySpan<byte> key, long createRevision, long version, long lease);
