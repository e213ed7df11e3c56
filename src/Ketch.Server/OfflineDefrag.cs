using Ketch.Mvcc.Backend;

namespace Ketch.Server;

/// <summary>
/// etcdctl's <c>defrag --data-dir</c> for a ketch data directory, with no member running on it: a full
/// compaction of the member's backend (<c>&lt;data-dir&gt;/member/kv</c>, a RocksDB store); the WAL and
/// snapshots are left as they are. etcd's backend is <c>&lt;data-dir&gt;/member/snap/db</c> (bbolt), which
/// ketch cannot read: such a directory is refused by name.
/// </summary>
public static class OfflineDefrag
{
    /// <summary>The backend's directory inside a data directory (where <c>RaftLoop.Open</c> puts it).</summary>
    /// <param name="dataDir">The data directory.</param>
    /// <returns>The path of the backend.</returns>
    public static string BackendDirectory(string dataDir) => Path.Combine(dataDir, "member", "kv");

    /// <summary>Compacts the backend of <paramref name="dataDir"/>.</summary>
    /// <param name="dataDir">A ketch data directory not in use by a member.</param>
    /// <exception cref="BackendLockedException">A running member uses it.</exception>
    /// <exception cref="IOException">It is not a ketch data directory, or the compaction failed.</exception>
    public static void Run(string dataDir)
    {
        var kv = BackendDirectory(dataDir);
        if (!File.Exists(Path.Combine(kv, "CURRENT")))
        {
            throw new IOException(File.Exists(Path.Combine(dataDir, "member", "snap", "db"))
                ? $"{dataDir} is an etcd data directory (member/snap/db): ketchctl defragments ketch data directories only"
                : $"{dataDir} is not a ketch data directory: {kv} holds no backend");
        }
        OfflineCompaction.Run(kv);
    }
}
