using System.Buffers.Binary;
using Ketch.Mvcc.Backend;

namespace Ketch.Mvcc;

/// <summary>
/// A consistent, read-only view of the whole store at one moment (a RocksDB snapshot), read
/// outside the store's lock so writers go on: what an etcd-format snapshot and etcd's HashKV are
/// computed from. Dispose it before the store is disposed (closing waits for open views).
/// </summary>
public sealed class StoreView : IDisposable
{
    private readonly RocksBackend _backend;
    private readonly Backend.Rocks.RocksSnapshot _snapshot;
    private readonly Action _release;
    private bool _disposed;

    internal StoreView(RocksBackend backend, Backend.Rocks.RocksSnapshot snapshot, Action release,
        long currentRevision, long compactRevision, ulong consistentIndex, ulong consistentTerm)
    {
        _backend = backend;
        _snapshot = snapshot;
        _release = release;
        CurrentRevision = currentRevision;
        CompactRevision = compactRevision;
        ConsistentIndex = consistentIndex;
        ConsistentTerm = consistentTerm;
    }

    /// <summary>The revision of the last write transaction.</summary>
    public long CurrentRevision { get; }

    /// <summary>The revision of the last compaction; -1 when never compacted (etcd's <c>compactMainRev</c>).</summary>
    public long CompactRevision { get; }

    /// <summary>The index of the last Raft entry applied.</summary>
    public ulong ConsistentIndex { get; }

    /// <summary>The term of the last Raft entry applied.</summary>
    public ulong ConsistentTerm { get; }

    /// <summary>
    /// The history records with a main revision in [<paramref name="fromMain"/>, <paramref name="toMain"/>],
    /// in revision order, as etcd's backend holds them: every record above the compacted revision;
    /// at or below it, only the latest put of each key live there. Ketch also keeps the tombstones
    /// <em>at</em> the compacted revision (so a watch from there sees complete events), etcd deletes
    /// them: they are left out here. The view is taken under the apply lock, when no compaction is
    /// half done, so every other record at or below the compacted revision is one etcd keeps too.
    /// </summary>
    public IEnumerable<HistoryRecord> History(long fromMain = 0, long toMain = long.MaxValue)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var from = new byte[16];
        BinaryPrimitives.WriteInt64BigEndian(from, fromMain);
        foreach (var (key, value) in _backend.ScanSnapshot(_snapshot, BackendBucket.Key, from))
        {
            var main = BinaryPrimitives.ReadInt64BigEndian(key);
            if (main > toMain)
            {
                yield break;
            }
            var kv = KvCodec.Decode(value, main);
            if (kv.IsTombstone && main == CompactRevision)
            {
                continue;
            }
            yield return new HistoryRecord(main, BinaryPrimitives.ReadInt64BigEndian(key.AsSpan(8)), kv);
        }
    }

    /// <summary>The entries of a server bucket (leases, members, auth) in key order.</summary>
    public IEnumerable<KeyValuePair<byte[], byte[]>> Bucket(BackendBucket bucket)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (bucket is BackendBucket.Key or BackendBucket.Meta)
        {
            throw new ArgumentException("the key and meta buckets belong to the store", nameof(bucket));
        }
        foreach (var (key, value) in _backend.ScanSnapshot(_snapshot, bucket))
        {
            yield return new(key, value);
        }
    }

    /// <summary>Releases the RocksDB snapshot.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _snapshot.Dispose();
        _release();
    }
}
