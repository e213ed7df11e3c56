namespace Ketch.Mvcc;

public sealed partial class KvStore
{
    /// <summary>
    /// etcd's defragment: rewrites the backend to its live data, so deleted keys and compacted
    /// revisions leave the files and <see cref="DbSizeBytes"/> (what the space quota checks) falls
    /// with them. Without it a member that hit NOSPACE stayed over its quota after the recovery
    /// etcd documents (delete, compact, defrag, disarm), because RocksDB keeps the tombstones and
    /// the memtable until a compaction of its own.
    /// </summary>
    /// <remarks>
    /// The pending batch is committed at an entry boundary (as <see cref="OpenView"/> does, so no
    /// entry is split from its consistent index); the compaction itself runs outside the store's
    /// locks. Unlike etcd's, reads and writes go on meanwhile: here the Raft loop applies entries,
    /// and holding it for a whole-store compaction would stop its heartbeats and cost the cluster
    /// its leader. The store does not close under it (it counts as an open snapshot).
    /// </remarks>
    public void Defragment()
    {
        lock (_applyLock)
        {
            lock (_lock)
            {
                ThrowIfClosed();
                CommitBatch();
                Interlocked.Increment(ref _activeSnapshots);
            }
        }
        try
        {
            _backend.Defragment();
        }
        finally
        {
            Interlocked.Decrement(ref _activeSnapshots);
        }
    }
}
