using System.Security.Cryptography;
using Ketch.Mvcc;
using Ketch.Mvcc.Backend;
using Ketch.Raft;
using Ketch.Server.Member;
using Ketch.Server.Snapshots;
using Ketch.Wal;

namespace Ketch.Server;

/// <summary>What <c>snapshot restore</c> is given: etcdctl 3.4's flags, with its defaults.</summary>
public sealed record SnapshotRestoreOptions
{
    /// <summary>The snapshot file (from <c>snapshot save</c>).</summary>
    public required string SnapshotPath { get; init; }

    /// <summary>This member's name (<c>--name</c>).</summary>
    public string Name { get; init; } = "default";

    /// <summary>The data directory to create (<c>--data-dir</c>); empty: <c>&lt;name&gt;.etcd</c> as etcdctl.</summary>
    public string DataDir { get; init; } = "";

    /// <summary>A separate WAL directory to create (<c>--wal-dir</c>); empty: inside the data directory.</summary>
    public string WalDir { get; init; } = "";

    /// <summary>This member's peer URLs (<c>--initial-advertise-peer-urls</c>).</summary>
    public IReadOnlyList<string> PeerUrls { get; init; } = ["http://localhost:2380"];

    /// <summary>The new cluster, <c>name=url,...</c> (<c>--initial-cluster</c>).</summary>
    public string InitialCluster { get; init; } = "default=http://localhost:2380";

    /// <summary>The new cluster's token (<c>--initial-cluster-token</c>).</summary>
    public string InitialClusterToken { get; init; } = "etcd-cluster";

    /// <summary>Accept a file without the trailing SHA-256 (<c>--skip-hash-check</c>).</summary>
    public bool SkipHashCheck { get; init; }
}

/// <summary>
/// etcdctl's <c>snapshot restore</c> for an etcd snapshot (from etcd or ketch; ketch's older own
/// format too): a data directory that <c>ketch</c> starts
/// from as the first member of a new cluster holding the snapshot's keys, leases and revision.
/// As etcd (clientv3/snapshot in 3.4): the old members are dropped, the new cluster's members (ids
/// from the peer URLs and token, so a new cluster id) are written, and a new WAL is created. Unlike
/// etcd, no bootstrap entries are written: the store's consistent index is reset to 0 and the WAL
/// starts empty with the members as its bootstrap configuration, which is exactly what a new
/// member's first start does (<c>RaftLoop.Open</c>), so applies after the restore are not skipped.
/// </summary>
public static class SnapshotRestore
{
    private const int Sha256Bytes = 32;

    /// <summary>Creates the data directory. Errors carry etcdctl's texts: <see cref="ArgumentException"/>
    /// for bad flags, <see cref="IOException"/> for an existing directory or a bad file,
    /// <see cref="InvalidDataException"/> for a file that is not a ketch snapshot.</summary>
    /// <param name="options">What to restore, and where.</param>
    public static void Run(SnapshotRestoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var members = ClusterConfig.Parse(options.InitialCluster, options.InitialClusterToken);
        var self = members.FirstOrDefault(m => m.Name == options.Name)
            ?? throw new ArgumentException($"couldn't find local name \"{options.Name}\" in the initial cluster configuration");
        CheckAdvertised(self, options.PeerUrls);

        var dataDir = options.DataDir.Length > 0 ? options.DataDir : options.Name + ".etcd";
        if (Path.Exists(dataDir))
        {
            throw new IOException($"data-dir \"{dataDir}\" exists");
        }
        var walDir = options.WalDir.Length > 0 ? options.WalDir : Path.Combine(dataDir, "member");
        if (options.WalDir.Length > 0 && Path.Exists(options.WalDir))
        {
            throw new IOException($"wal-dir \"{options.WalDir}\" exists");
        }

        using var file = new FileStream(options.SnapshotPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        CheckHash(file, options.SkipHashCheck);
        file.Position = 0;
        try
        {
            Write(file, dataDir, walDir, members, self);
        }
        catch
        {
            // Leave nothing half-made behind: a later restore into the same place must not find it.
            DeleteIfExists(dataDir);
            if (options.WalDir.Length > 0)
            {
                DeleteIfExists(options.WalDir);
            }
            throw;
        }
    }

    private static void DeleteIfExists(string dir)
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Write(FileStream file, string dataDir, string walDir, IReadOnlyList<MemberInfo> members, MemberInfo self)
    {
        using (var kv = OpenSnapshot(file, new KvStoreOptions { Directory = Path.Combine(dataDir, "member", "kv") }))
        {
            foreach (var (key, _) in kv.ReadBucket(BackendBucket.Members))
            {
                // Member records (8-byte ids) and removed ids of the old cluster go; its alarms stay, as
                // etcd keeps its alarm bucket.
                if (key.Length == 8 || key.AsSpan().StartsWith("removed/"u8))
                {
                    kv.DeleteBucketValue(BackendBucket.Members, key);
                }
            }
            var membership = new Membership();
            foreach (var m in members)
            {
                membership.Set(kv, m);
            }
            kv.SetConsistentIndex(0, 0);
            kv.Commit();
        }

        var clusterId = MemberIds.ClusterId(members.Select(m => m.Id));
        using var wal = WalStorage.Create(walDir, new WalMetadata(self.Id, clusterId, ConfState.Of(members.Select(m => m.Id))));
    }

    /// <summary>
    /// A store made from the snapshot file: an etcd backend (bbolt, from etcd's or ketch's
    /// Maintenance/Snapshot), or ketch's own older stream (<c>KETCHSNP</c>, ketch before etcd-format
    /// snapshots), told apart by their first bytes.
    /// </summary>
    private static KvStore OpenSnapshot(FileStream file, KvStoreOptions options)
    {
        if (BoltReader.IsBolt(file))
        {
            var bolt = BoltReader.Open(file);
            return KvStore.Import(options, import => EtcdSnapshotReader.Fill(bolt, import));
        }
        Span<byte> magic = stackalloc byte[8];
        file.Position = 0;
        if (file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false) != magic.Length || !magic.SequenceEqual("KETCHSNP"u8))
        {
            // bbolt's word for a file that is no database.
            throw new InvalidDataException("invalid database");
        }
        file.Position = 0;
        return KvStore.Restore(file, options);
    }

    /// <summary>etcd's check that <c>--initial-advertise-peer-urls</c> equals this member's URLs in <c>--initial-cluster</c>.</summary>
    private static void CheckAdvertised(MemberInfo self, IReadOnlyList<string> advertised)
    {
        var want = self.PeerUrls.Order(StringComparer.Ordinal).ToList();
        var got = advertised.Order(StringComparer.Ordinal).ToList();
        if (want.SequenceEqual(got))
        {
            return;
        }
        static string List(IEnumerable<string> urls) => "[" + string.Join(" ", urls.Select(u => $"\"{u}\"")) + "]";
        var why = want.Count != got.Count
            ? $"len({List(got)}) != len({List(want)})"
            : $"resolved urls: {string.Join(", ", got.Zip(want).Where(p => p.First != p.Second).Select(p => $"\"{p.First}\" != \"{p.Second}\""))}";
        var missing = self.PeerUrls.Where(u => !advertised.Contains(u, StringComparer.Ordinal)).Select(u => self.Name + "=" + u);
        throw new ArgumentException(
            $"--initial-cluster has {string.Join(",", missing)} but missing from --initial-advertise-peer-urls={string.Join(",", advertised)} ({why})");
    }

    /// <summary>
    /// The file is the database (a whole number of bbolt pages; ketch's older stream was padded to
    /// a multiple of 512 bytes), then the SHA-256 of it (MaintenanceService.Snapshot); etcdctl
    /// recognises the hash by the length (n % 512 == 32).
    /// </summary>
    private static void CheckHash(FileStream file, bool skip)
    {
        var length = file.Length;
        var hasHash = length % 512 == Sha256Bytes;
        if (!hasHash && !skip)
        {
            throw new IOException("snapshot missing hash but --skip-hash-check=false");
        }
        if (!hasHash || skip)
        {
            return;
        }
        var expected = new byte[Sha256Bytes];
        file.Position = length - Sha256Bytes;
        file.ReadExactly(expected);
        file.Position = 0;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        var remaining = length - Sha256Bytes;
        while (remaining > 0)
        {
            var n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (n == 0)
            {
                throw new EndOfStreamException();
            }
            sha.AppendData(buffer, 0, n);
            remaining -= n;
        }
        var actual = sha.GetHashAndReset();
        if (!actual.AsSpan().SequenceEqual(expected))
        {
            throw new IOException($"expected sha256 [{string.Join(" ", expected)}], got [{string.Join(" ", actual)}]");
        }
    }
}
