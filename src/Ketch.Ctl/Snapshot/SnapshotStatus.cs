namespace Ketch.Ctl.Snapshot;

/// <summary>What <c>snapshot status</c> reports (etcd's <c>snapshot.Status</c>): a CRC-32C over every bucket's
/// keys and values, the last revision, the number of records, the database's size in bytes.</summary>
internal sealed record SnapshotStatus(uint Hash, long Revision, long TotalKey, long TotalSize)
{
    /// <summary>Reads a snapshot file: ketch's format, or an etcd (bbolt) database.</summary>
    public static SnapshotStatus Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new CtlException(ExitCode.Error, $"stat {path}: no such file or directory");
        }
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return KetchSnapshotReader.IsKetch(file) ? KetchSnapshotReader.Status(file) : BoltReader.Status(file);
    }
}
