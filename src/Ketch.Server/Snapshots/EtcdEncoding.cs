using System.Buffers.Binary;
using Google.Protobuf;
using Ketch.Mvcc;
using Mvccpb = Ketch.Api.Mvccpb;

namespace Ketch.Server.Snapshots;

/// <summary>
/// How etcd 3.4 writes its backend (bbolt) buckets, for etcd-format snapshots and etcd's HashKV.
/// Key bucket (mvcc/revision.go, kvstore_txn.go): key = main revision (8 bytes BE), <c>'_'</c>, sub
/// revision (8 bytes BE), plus a <c>'t'</c> for the tombstone of a deletion; value =
/// <c>mvccpb.KeyValue</c> as gogo-proto marshals it (fields in number order, zero fields left out;
/// a tombstone carries only the key). Meta bucket: <c>consistent_index</c> (u64 BE),
/// <c>scheduledCompactRev</c> and <c>finishedCompactRev</c> (revision keys with sub 0). Lease
/// bucket (lease/lessor.go): key = lease id (8 bytes BE), value = <c>leasepb.Lease</c> {ID = 1,
/// TTL = 2, RemainingTTL = 3}. Members (etcdserver/api/membership/store.go): key = the member id in
/// hex, value = the member as JSON; members_removed: hex id → <c>removed</c>. Cluster:
/// <c>clusterVersion</c> → the version text. Alarm: key = the marshaled <c>AlarmMember</c>, empty
/// value. Auth (auth/store.go): <c>authEnabled</c> (1 byte), <c>authRevision</c> (u64 BE); authUsers
/// and authRoles: name → marshaled <c>authpb.User</c> / <c>authpb.Role</c>.
/// </summary>
internal static class EtcdEncoding
{
    public const int RevisionKeyBytes = 17;

    public static readonly byte[] KeyBucket = "key"u8.ToArray();
    public static readonly byte[] MetaBucket = "meta"u8.ToArray();
    public static readonly byte[] LeaseBucket = "lease"u8.ToArray();
    public static readonly byte[] MembersBucket = "members"u8.ToArray();
    public static readonly byte[] MembersRemovedBucket = "members_removed"u8.ToArray();
    public static readonly byte[] ClusterBucket = "cluster"u8.ToArray();
    public static readonly byte[] AlarmBucket = "alarm"u8.ToArray();
    public static readonly byte[] AuthBucket = "auth"u8.ToArray();
    public static readonly byte[] AuthUsersBucket = "authUsers"u8.ToArray();
    public static readonly byte[] AuthRolesBucket = "authRoles"u8.ToArray();

    public static readonly byte[] ConsistentIndexKey = "consistent_index"u8.ToArray();
    public static readonly byte[] ScheduledCompactKey = "scheduledCompactRev"u8.ToArray();
    public static readonly byte[] FinishedCompactKey = "finishedCompactRev"u8.ToArray();
    public static readonly byte[] ClusterVersionKey = "clusterVersion"u8.ToArray();
    public static readonly byte[] AuthEnabledKey = "authEnabled"u8.ToArray();
    public static readonly byte[] AuthRevisionKey = "authRevision"u8.ToArray();

    /// <summary>The cluster version an etcd 3.4 member writes (the snapshot is etcd 3.4's format).</summary>
    public const string ClusterVersion = "3.4.0";

    public static byte[] RevisionKey(long main, long sub, bool tombstone)
    {
        var k = new byte[RevisionKeyBytes + (tombstone ? 1 : 0)];
        BinaryPrimitives.WriteInt64BigEndian(k, main);
        k[8] = (byte)'_';
        BinaryPrimitives.WriteInt64BigEndian(k.AsSpan(9), sub);
        if (tombstone)
        {
            k[RevisionKeyBytes] = (byte)'t';
        }
        return k;
    }

    /// <summary>Reads a key-bucket key: revision and tombstone mark.</summary>
    public static (long Main, long Sub, bool Tombstone) ReadRevisionKey(ReadOnlySpan<byte> key)
    {
        if (key.Length is not (RevisionKeyBytes or RevisionKeyBytes + 1) || key[8] != (byte)'_'
            || (key.Length > RevisionKeyBytes && key[RevisionKeyBytes] != (byte)'t'))
        {
            throw new InvalidDataException($"not a revision key: {Convert.ToHexString(key)}");
        }
        return (BinaryPrimitives.ReadInt64BigEndian(key), BinaryPrimitives.ReadInt64BigEndian(key[9..]), key.Length > RevisionKeyBytes);
    }

    /// <summary>The key bucket's key and value of a history record, byte for byte as etcd writes them.</summary>
    public static (byte[] Key, byte[] Value) Encode(HistoryRecord r)
    {
        var kv = r.Kv;
        var pb = r.IsTombstone
            ? new Mvccpb.KeyValue { Key = UnsafeByteOperations.UnsafeWrap(kv.Key) }
            : new Mvccpb.KeyValue
            {
                Key = UnsafeByteOperations.UnsafeWrap(kv.Key),
                CreateRevision = kv.CreateRevision,
                ModRevision = kv.ModRevision,
                Version = kv.Version,
                Value = UnsafeByteOperations.UnsafeWrap(kv.Value),
                Lease = kv.Lease,
            };
        return (RevisionKey(r.Main, r.Sub, r.IsTombstone), pb.ToByteArray());
    }

    /// <summary>A key-bucket entry as a ketch history record.</summary>
    public static HistoryRecord Decode(byte[] key, byte[] value)
    {
        var (main, sub, tombstone) = ReadRevisionKey(key);
        Mvccpb.KeyValue pb;
        try
        {
            pb = Mvccpb.KeyValue.Parser.ParseFrom(value);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"bad key-value at revision {main}_{sub}", e);
        }
        if (pb.Key.IsEmpty)
        {
            throw new InvalidDataException($"key-value without a key at revision {main}_{sub}");
        }
        var kv = tombstone
            ? new KeyValue { Key = pb.Key.ToByteArray(), ModRevision = main }
            : new KeyValue
            {
                Key = pb.Key.ToByteArray(),
                CreateRevision = pb.CreateRevision,
                ModRevision = main,
                Version = pb.Version,
                Value = pb.Value.ToByteArray(),
                Lease = pb.Lease,
            };
        if (!tombstone && kv.CreateRevision == 0)
        {
            throw new InvalidDataException($"put without a create revision at revision {main}_{sub}");
        }
        return new HistoryRecord(main, sub, kv);
    }

    /// <summary><c>leasepb.Lease</c> {ID = 1, TTL = 2, RemainingTTL = 3}, zero fields left out.</summary>
    public static byte[] EncodeLease(long id, long ttl, long remainingTtl)
    {
        using var ms = new MemoryStream();
        using (var o = new CodedOutputStream(ms, leaveOpen: true))
        {
            for (var field = 1; field <= 3; field++)
            {
                var v = field switch { 1 => id, 2 => ttl, _ => remainingTtl };
                if (v != 0)
                {
                    o.WriteTag(field, WireFormat.WireType.Varint);
                    o.WriteInt64(v);
                }
            }
        }
        return ms.ToArray();
    }

    public static (long Id, long Ttl, long RemainingTtl) DecodeLease(byte[] value)
    {
        long id = 0, ttl = 0, remaining = 0;
        try
        {
            var input = new CodedInputStream(value);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1: id = input.ReadInt64(); break;
                    case 2: ttl = input.ReadInt64(); break;
                    case 3: remaining = input.ReadInt64(); break;
                    default: input.SkipLastField(); break;
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException("bad lease record", e);
        }
        return (id, ttl, remaining);
    }

    public static byte[] RevisionBytes(long main) => RevisionKey(main, 0, tombstone: false);

    public static byte[] BigEndian(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, v);
        return b;
    }
}
