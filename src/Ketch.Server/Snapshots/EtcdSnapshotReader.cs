using System.Buffers.Binary;
using System.Text;
using Ketch.Api.Etcdserverpb;
using Ketch.Mvcc;
using Ketch.Mvcc.Backend;

namespace Ketch.Server.Snapshots;

/// <summary>
/// Reads an etcd 3.4 backend (a bbolt database: an etcd snapshot, from etcd or from ketch) into a
/// new ketch store: the key bucket's history with its revisions, the compaction progress, leases,
/// alarms and the auth state (enabled flag, revision, users, roles). Members are not taken: a
/// restore writes the new cluster's (as etcdctl's restore replaces them), and the consistent index
/// belongs to the old cluster's log. Entries are streamed, one bbolt page in memory at a time.
/// </summary>
internal static class EtcdSnapshotReader
{
    private static readonly byte[] s_alarmsKey = "alarms"u8.ToArray();

    public static void Fill(BoltReader bolt, StoreImport import)
    {
        ArgumentNullException.ThrowIfNull(bolt);
        ArgumentNullException.ThrowIfNull(import);
        var buckets = bolt.Buckets().Where(b => b.IsBucket).ToDictionary(b => Encoding.UTF8.GetString(b.Key));
        if (!buckets.TryGetValue("key", out var keyBucket) || !buckets.ContainsKey("meta"))
        {
            throw new InvalidDataException("not an etcd backend: no key or meta bucket");
        }
        foreach (var e in bolt.Entries(keyBucket))
        {
            var r = EtcdEncoding.Decode(e.Key, e.Value);
            import.AddRecord(r.Main, r.Sub, r.Kv);
        }

        long scheduled = -1, finished = -1;
        foreach (var e in bolt.Entries(buckets["meta"]))
        {
            if (e.Key.AsSpan().SequenceEqual(EtcdEncoding.ScheduledCompactKey))
            {
                scheduled = EtcdEncoding.ReadRevisionKey(e.Value).Main;
            }
            else if (e.Key.AsSpan().SequenceEqual(EtcdEncoding.FinishedCompactKey))
            {
                finished = EtcdEncoding.ReadRevisionKey(e.Value).Main;
            }
        }
        if (scheduled > 0 || finished > 0)
        {
            import.SetCompacted(Math.Max(scheduled, finished), finished);
        }

        foreach (var e in Entries(bolt, buckets, "lease"))
        {
            var (id, ttl, remaining) = EtcdEncoding.DecodeLease(e.Value);
            var v = new byte[16];
            BinaryPrimitives.WriteInt64BigEndian(v, ttl);
            BinaryPrimitives.WriteInt64BigEndian(v.AsSpan(8), remaining);
            import.PutBucketValue(BackendBucket.Lease, EtcdEncoding.BigEndian((ulong)id), v);
        }

        var alarms = new List<byte>();
        foreach (var e in Entries(bolt, buckets, "alarm"))
        {
            var a = AlarmMember.Parser.ParseFrom(e.Key);
            alarms.AddRange(EtcdEncoding.BigEndian(a.MemberID));
            alarms.Add((byte)a.Alarm);
        }
        if (alarms.Count > 0)
        {
            import.PutBucketValue(BackendBucket.Members, s_alarmsKey, [.. alarms]);
        }

        foreach (var e in Entries(bolt, buckets, "auth"))
        {
            if (e.Key.AsSpan().SequenceEqual(EtcdEncoding.AuthEnabledKey))
            {
                import.PutBucketValue(BackendBucket.Auth, "e"u8, [e.Value is [1] ? (byte)1 : (byte)0]);
            }
            else if (e.Key.AsSpan().SequenceEqual(EtcdEncoding.AuthRevisionKey) && e.Value.Length == 8)
            {
                import.PutBucketValue(BackendBucket.Auth, "v"u8, e.Value);
            }
        }
        foreach (var e in Entries(bolt, buckets, "authUsers"))
        {
            import.PutBucketValue(BackendBucket.Auth, [(byte)'u', .. e.Key], e.Value);
        }
        foreach (var e in Entries(bolt, buckets, "authRoles"))
        {
            import.PutBucketValue(BackendBucket.Auth, [(byte)'r', .. e.Key], e.Value);
        }
    }

    private static IEnumerable<BoltEntry> Entries(BoltReader bolt, Dictionary<string, BoltEntry> buckets, string name) =>
        buckets.TryGetValue(name, out var bucket) ? bolt.Entries(bucket) : [];
}
