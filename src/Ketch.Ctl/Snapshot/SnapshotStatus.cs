using Ketch.Server.Api;
using Ketch.Server.Snapshots;

namespace Ketch.Ctl.Snapshot;

/// <summary>What <c>snapshot status</c> reports (etcd's <c>snapshot.Status</c>): a CRC-32C over every bucket's
/// keys and values, the last revision, the number of records, the database's size in bytes.</summary>
internal sealed record SnapshotStatus(uint Hash, long Revision, long TotalKey, long TotalSize)
{
    /// <summary>Reads a snapshot file: an etcd (bbolt) database, or ketch's older own format.</summary>
    public static SnapshotStatus Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new CtlException(ExitCode.Error, $"stat {path}: no such file or directory");
        }
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (KetchSnapshotReader.IsKetch(file))
        {
            return KetchSnapshotReader.Status(file);
        }
        try
        {
            return FromBolt(BoltReader.Open(file));
        }
        catch (InvalidDataException e)
        {
            throw new CtlException(ExitCode.Error, e.Message);
        }
    }

    /// <summary>
    /// As etcd's: the CRC covers, for every top-level bucket in name order, its name, then each
    /// entry's key and value (bbolt's ForEach gives a nested bucket's value as nil); the revision is
    /// the main revision of the key bucket's last key; the size is bbolt's (pages × page size).
    /// </summary>
    private static SnapshotStatus FromBolt(BoltReader bolt)
    {
        uint crc = 0;
        long total = 0, revision = 0;
        foreach (var bucket in bolt.Buckets())
        {
            if (!bucket.IsBucket)
            {
                throw new CtlException(ExitCode.Error, $"cannot get hash of bucket {System.Text.Encoding.UTF8.GetString(bucket.Key)}");
            }
            crc = Crc32Castagnoli.Append(crc, bucket.Key);
            var isKeyBucket = bucket.Key.AsSpan().SequenceEqual("key"u8);
            foreach (var e in bolt.Entries(bucket))
            {
                crc = Crc32Castagnoli.Append(crc, e.Key);
                if (!e.IsBucket)
                {
                    crc = Crc32Castagnoli.Append(crc, e.Value);
                }
                if (isKeyBucket && e.Key.Length >= 8)
                {
                    revision = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(e.Key);
                }
                total++;
            }
        }
        return new SnapshotStatus(crc, revision, total, bolt.SizeBytes);
    }
}
