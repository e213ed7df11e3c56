using Ketch.Mvcc.Backend.Rocks;

namespace Ketch.Mvcc.Backend;

/// <summary>
/// A full manual compaction of a closed backend (the store of <see cref="RocksBackend"/>): every level is
/// rewritten into the bottom one, so deleted and overwritten records (compacted revisions, tombstones) give
/// their space back at once instead of whenever RocksDB's background compactions reach them. This is what
/// etcd's offline <c>defrag --data-dir</c> buys for bbolt; the online Defragment RPC has nothing to do on
/// ketch because RocksDB compacts while it serves.
/// </summary>
public static class OfflineCompaction
{
    /// <summary>Compacts the store in <paramref name="directory"/>. RocksDB's LOCK file makes it fail, rather
    /// than wait, while a member (in this process or another) has the store open.</summary>
    /// <param name="directory">The backend's directory (a RocksDB database).</param>
    /// <exception cref="BackendLockedException">A running member holds the store.</exception>
    /// <exception cref="IOException">There is no store there, or RocksDB failed.</exception>
    public static void Run(string directory)
    {
        if (!File.Exists(Path.Combine(directory, "CURRENT")))
        {
            throw new IOException($"open {directory}: no such RocksDB database");
        }
        RocksDatabase db;
        try
        {
            // createIfMissing false: never make an empty store out of a wrong path.
            db = RocksDatabase.Open(directory, createIfMissing: false);
        }
        catch (RocksException ex) when (ex.Message.Contains("LOCK", StringComparison.Ordinal))
        {
            throw new BackendLockedException(directory, ex.Message);
        }
        catch (RocksException ex)
        {
            throw new IOException(ex.Message, ex);
        }
        using (db)
        {
            try
            {
                // No bounds: the whole key space. RocksDB flushes the memtable (replayed from its log) first.
                db.CompactRange([], []);
            }
            catch (RocksException ex)
            {
                throw new IOException(ex.Message, ex);
            }
        }
    }
}

/// <summary>The backend is open in a running member (RocksDB's LOCK file is held).</summary>
public sealed class BackendLockedException(string directory, string detail)
    : IOException($"{directory} is locked by a running member")
{
    /// <summary>The backend's directory.</summary>
    public string Directory { get; } = directory;

    /// <summary>RocksDB's own words (which process or thread holds the lock).</summary>
    public string Detail { get; } = detail;
}
