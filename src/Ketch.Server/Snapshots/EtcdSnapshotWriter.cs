using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Ketch.Api.Etcdserverpb;
using Ketch.Mvcc;
using Ketch.Mvcc.Backend;
using Ketch.Server.Member;

namespace Ketch.Server.Snapshots;

/// <summary>
/// Writes a ketch store as etcd 3.4 keeps its backend: a bbolt database with etcd's buckets and
/// encodings (<see cref="EtcdEncoding"/>), so <c>etcdctl snapshot status|restore</c> and an etcd
/// member read it. One consistent <see cref="StoreView"/> is read once per bucket, in bucket-name
/// order (bbolt's), straight into a <see cref="BoltWriter"/>: memory stays at one page plus a
/// branch key per leaf page. Buckets whose ketch keys do not sort like etcd's (members, alarms)
/// are small and sorted in memory.
/// </summary>
internal static class EtcdSnapshotWriter
{
    private static readonly byte[] s_alarmsKey = "alarms"u8.ToArray();
    private static readonly byte[] s_removedPrefix = "removed/"u8.ToArray();

    /// <summary>Writes the database to <paramref name="output"/> (empty, seekable); returns its size.</summary>
    public static long Write(KvStore kv, Stream output)
    {
        ArgumentNullException.ThrowIfNull(kv);
        using var view = kv.OpenView();
        return Write(view, output);
    }

    public static long Write(StoreView view, Stream output)
    {
        var bolt = new BoltWriter(output);
        Bucket(bolt, EtcdEncoding.AlarmBucket, Alarms(view));
        Bucket(bolt, EtcdEncoding.AuthBucket, AuthState(view));
        Bucket(bolt, EtcdEncoding.AuthRolesBucket, AuthEntries(view, (byte)'r'));
        Bucket(bolt, EtcdEncoding.AuthUsersBucket, AuthEntries(view, (byte)'u'));
        Bucket(bolt, EtcdEncoding.ClusterBucket, [(EtcdEncoding.ClusterVersionKey, Encoding.ASCII.GetBytes(EtcdEncoding.ClusterVersion))]);
        Bucket(bolt, EtcdEncoding.KeyBucket, view.History().Select(EtcdEncoding.Encode));
        Bucket(bolt, EtcdEncoding.LeaseBucket, Leases(view));
        var (members, removed) = Members(view);
        Bucket(bolt, EtcdEncoding.MembersBucket, members);
        Bucket(bolt, EtcdEncoding.MembersRemovedBucket, removed);
        Bucket(bolt, EtcdEncoding.MetaBucket, Meta(view));
        return bolt.Finish();
    }

    private static void Bucket(BoltWriter bolt, byte[] name, IEnumerable<(byte[] Key, byte[] Value)> entries)
    {
        bolt.BeginBucket(name);
        foreach (var (k, v) in entries)
        {
            bolt.Put(k, v);
        }
        bolt.EndBucket();
    }

    private static IEnumerable<(byte[], byte[])> Alarms(StoreView view)
    {
        var value = view.Bucket(BackendBucket.Members).FirstOrDefault(e => e.Key.AsSpan().SequenceEqual(s_alarmsKey)).Value ?? [];
        var keys = new List<byte[]>();
        for (var i = 0; i + 9 <= value.Length; i += 9)
        {
            keys.Add(new AlarmMember { MemberID = BinaryPrimitives.ReadUInt64BigEndian(value.AsSpan(i)), Alarm = (AlarmType)value[i + 8] }.ToByteArray());
        }
        return keys.Where(k => k.Length > 0).Order(ByteOrder.Instance).Distinct(ByteOrder.Instance).Select(k => (k, Array.Empty<byte>()));
    }

    private static IEnumerable<(byte[], byte[])> AuthState(StoreView view)
    {
        bool enabled = false;
        ulong revision = 1;
        foreach (var (k, v) in view.Bucket(BackendBucket.Auth))
        {
            if (k is [(byte)'e'])
            {
                enabled = v is [1];
            }
            else if (k is [(byte)'v'] && v.Length == 8)
            {
                revision = BinaryPrimitives.ReadUInt64BigEndian(v);
            }
        }
        return [(EtcdEncoding.AuthEnabledKey, [enabled ? (byte)1 : (byte)0]), (EtcdEncoding.AuthRevisionKey, EtcdEncoding.BigEndian(revision))];
    }

    /// <summary>Users (<c>u</c>name) or roles (<c>r</c>name): ketch's keys minus the prefix sort as etcd's.</summary>
    private static IEnumerable<(byte[], byte[])> AuthEntries(StoreView view, byte prefix) =>
        view.Bucket(BackendBucket.Auth).Where(e => e.Key.Length > 1 && e.Key[0] == prefix).Select(e => (e.Key[1..], e.Value));

    private static IEnumerable<(byte[], byte[])> Leases(StoreView view) =>
        view.Bucket(BackendBucket.Lease).Select(e => (e.Key, EtcdEncoding.EncodeLease(
            BinaryPrimitives.ReadInt64BigEndian(e.Key), BinaryPrimitives.ReadInt64BigEndian(e.Value), BinaryPrimitives.ReadInt64BigEndian(e.Value.AsSpan(8)))));

    private static (List<(byte[], byte[])> Members, List<(byte[], byte[])> Removed) Members(StoreView view)
    {
        var members = new List<(byte[], byte[])>();
        var removed = new List<(byte[], byte[])>();
        foreach (var (k, v) in view.Bucket(BackendBucket.Members))
        {
            if (k.Length == 8 && JsonSerializer.Deserialize<MemberInfo>(v) is { } m)
            {
                members.Add((HexId(m.Id), MemberJson(m)));
            }
            else if (k.Length == s_removedPrefix.Length + 8 && k.AsSpan().StartsWith(s_removedPrefix))
            {
                removed.Add((HexId(BinaryPrimitives.ReadUInt64BigEndian(k.AsSpan(s_removedPrefix.Length))), "removed"u8.ToArray()));
            }
        }
        members.Sort((a, b) => a.Item1.AsSpan().SequenceCompareTo(b.Item1));
        removed.Sort((a, b) => a.Item1.AsSpan().SequenceCompareTo(b.Item1));
        return (members, removed);
    }

    /// <summary>etcd's types.ID text: lower-case hex without leading zeros.</summary>
    private static byte[] HexId(ulong id) => Encoding.ASCII.GetBytes(id.ToString("x", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Go's json.Marshal of etcd's membership.Member: id, peerURLs, isLearner (omitempty),
    /// name (omitempty), clientURLs (omitempty), in that order.</summary>
    internal static byte[] MemberJson(MemberInfo m)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("id", m.Id);
            w.WriteStartArray("peerURLs");
            foreach (var u in m.PeerUrls)
            {
                w.WriteStringValue(u);
            }
            w.WriteEndArray();
            if (m.IsLearner)
            {
                w.WriteBoolean("isLearner", true);
            }
            if (m.Name.Length > 0)
            {
                w.WriteString("name", m.Name);
            }
            if (m.ClientUrls.Count > 0)
            {
                w.WriteStartArray("clientURLs");
                foreach (var u in m.ClientUrls)
                {
                    w.WriteStringValue(u);
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static IEnumerable<(byte[], byte[])> Meta(StoreView view)
    {
        yield return (EtcdEncoding.ConsistentIndexKey, EtcdEncoding.BigEndian(view.ConsistentIndex));
        if (view.CompactRevision > 0)
        {
            yield return (EtcdEncoding.FinishedCompactKey, EtcdEncoding.RevisionBytes(view.CompactRevision));
            yield return (EtcdEncoding.ScheduledCompactKey, EtcdEncoding.RevisionBytes(view.CompactRevision));
        }
    }

    /// <summary>Unsigned byte order, bbolt's key order.</summary>
    private sealed class ByteOrder : IComparer<byte[]>, IEqualityComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var h = new HashCode();
            h.AddBytes(obj);
            return h.ToHashCode();
        }
    }
}
