using Ketch.Mvcc.Backend;

namespace Ketch.Mvcc;

/// <summary>
/// Fills a new store from another format (an etcd snapshot): history records, server buckets and
/// the compacted revision, written to RocksDB in batches of 1,000 so memory stays bounded.
/// Only valid inside <see cref="KvStore.Import"/>.
/// </summary>
public sealed class StoreImport
{
    private const int BatchOps = 1_000;
    private readonly RocksBackend _backend;

    internal StoreImport(RocksBackend backend) => _backend = backend;

    /// <summary>The highest main revision added so far.</summary>
    public long LastRevision { get; private set; }

    /// <summary>Adds the history record at (<paramref name="main"/>, <paramref name="sub"/>): a put,
    /// or a tombstone when <see cref="KeyValue.CreateRevision"/> is 0.</summary>
    public void AddRecord(long main, long sub, KeyValue kv)
    {
        ArgumentNullException.ThrowIfNull(kv);
        ArgumentOutOfRangeException.ThrowIfLessThan(main, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(sub);
        _backend.PutRevision(new Revision(main, sub), kv);
        LastRevision = Math.Max(LastRevision, main);
        Flush();
    }

    /// <summary>Writes an entry of a server bucket (leases, members, auth).</summary>
    public void PutBucketValue(BackendBucket bucket, ReadOnlySpan<byte> key, byte[] value)
    {
        if (bucket is BackendBucket.Key or BackendBucket.Meta)
        {
            throw new ArgumentException("the key and meta buckets belong to the store", nameof(bucket));
        }
        _backend.PutBucket(bucket, key, value);
        Flush();
    }

    /// <summary>Records the compaction progress: <paramref name="scheduled"/> and <paramref name="finished"/>
    /// revisions (equal once a compaction is done; an unfinished one is finished when the store opens).
    /// The store opens with reads below <paramref name="scheduled"/> refused.</summary>
    public void SetCompacted(long scheduled, long finished)
    {
        _backend.PutBucket(BackendBucket.Meta, KvStore.ScheduledCompactKey, BigEndian(scheduled));
        _backend.PutBucket(BackendBucket.Meta, KvStore.FinishedCompactKey, BigEndian(finished));
        Flush();
    }

    private static byte[] BigEndian(long v)
    {
        var b = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(b, v);
        return b;
    }

    private void Flush()
    {
        if (_backend.PendingOps >= BatchOps)
        {
            _backend.Commit();
        }
    }
}
