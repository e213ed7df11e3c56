using Ketch.Mvcc.Backend;

namespace Ketch.Mvcc;

public sealed partial class KvStore
{
    internal static byte[] ScheduledCompactKey => s_scheduledCompactKey;

    internal static byte[] FinishedCompactKey => s_finishedCompactKey;

    /// <summary>
    /// A consistent view of the whole store for export (etcd snapshots) and hashing: pending writes
    /// are committed and a RocksDB snapshot taken under the apply lock, so no entry is half applied
    /// and no compaction half done in it; reading it then holds no lock.
    /// </summary>
    public StoreView OpenView()
    {
        lock (_applyLock)
        {
            lock (_lock)
            {
                ThrowIfClosed();
                CommitBatch();
                var snapshot = _backend.TakeSnapshot();
                Interlocked.Increment(ref _activeSnapshots);
                return new StoreView(_backend, snapshot, () => Interlocked.Decrement(ref _activeSnapshots),
                    _currentRev, _compactRev, ConsistentIndex, ConsistentTerm);
            }
        }
    }

    /// <summary>
    /// Creates a store in <see cref="KvStoreOptions.Directory"/> (missing or empty) with what
    /// <paramref name="fill"/> adds, then opens it (which rebuilds the index). If
    /// <paramref name="fill"/> throws, the directory is removed and the exception goes on: nothing
    /// half imported stays behind.
    /// </summary>
    public static KvStore Import(KvStoreOptions options, Action<StoreImport> fill)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(fill);
        var dir = options.Directory;
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
        {
            throw new IOException($"import needs an empty directory: {dir}");
        }

        try
        {
            using var backend = new RocksBackend(dir, syncWrites: false, cacheBytes: 1 << 20);
            fill(new StoreImport(backend));
            backend.Commit();
        }
        catch
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
            throw;
        }

        return Open(options);
    }
}
