namespace Ketch.Mvcc;

public sealed partial class KvStore
{
    /// <summary>
    /// etcd's defragment: rewrites the backend to its live data, so deleted keys and compacted
    /// revisions leave the files and <see cref="DbSizeBytes"/> (what the space quota checks) falls
    /// with them. Without it a member that hit NOSPACE stayed over its quota after the recovery
    /// etcd documents (delete, compact, defrag, disarm), because RocksDB keeps the tombstones and
    /// the memtable until a compaction of its own. Blocks reads and writes while it runs, as
    /// etcd's does; taken at an entry boundary (like <see cref="OpenView"/>) so the batch it
    /// commits never splits an entry from its consistent index.
    /// </summary>
    public void Defragment()
    {
        lock (_applyLock)
        {
            lock (_lock)
            {
                ThrowIfClosed();
                CommitBatch();
                _backend.Defragment();
            }
        }
    }
}
