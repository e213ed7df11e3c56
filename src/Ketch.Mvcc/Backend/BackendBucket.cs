namespace Ketch.Mvcc.Backend;

/// <summary>
/// The first byte of every RocksDB key: which space it belongs to (etcd's bbolt buckets).
/// </summary>
public enum BackendBucket : byte
{
    /// <summary>Revision to KeyValue, the MVCC history (internal to the store).</summary>
    Key = 0x01,

    /// <summary>Store metadata: consistent index and term, compaction progress.</summary>
    Meta = 0x02,

    /// <summary>Leases, owned by the server's lessor.</summary>
    Lease = 0x03,

    /// <summary>Cluster members, owned by the server's membership.</summary>
    Members = 0x04,

    /// <summary>Authentication users, roles and state, owned by the server's auth store.</summary>
    Auth = 0x05,
}
