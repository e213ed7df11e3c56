using System.Buffers.Binary;

namespace Ketch.Mvcc.Backend;

/// <summary>
/// The on-disk encoding of the key space (specified in docs/mvcc.md). Every RocksDB key starts with a
/// bucket byte. Revision keys are <c>[0x01][main u64 BE][sub u64 BE]</c>, so RocksDB's bytewise order
/// is revision order. Revision values are <c>[kind u8]</c> then, for a put (kind 1): varint
/// create_revision, varint version, varint lease (as u64), varint key length, key, value bytes to
/// the end; for a tombstone (kind 2): the key bytes to the end. mod_revision is the key's main revision.
/// </summary>
internal static class KvCodec
{
    /// <summary>The length of an encoded revision key.</summary>
    public const int RevisionKeyLength = 17;

    private const byte PutKind = 1;
    private const byte TombstoneKind = 2;

    /// <summary>Writes the RocksDB key of <paramref name="rev"/> into <paramref name="dest"/>.</summary>
    public static void WriteRevisionKey(Span<byte> dest, Revision rev)
    {
        dest[0] = (byte)BackendBucket.Key;
        BinaryPrimitives.WriteInt64BigEndian(dest[1..], rev.Main);
        BinaryPrimitives.WriteInt64BigEndian(dest[9..], rev.Sub);
    }

    /// <summary>The RocksDB key of <paramref name="rev"/> as a new array.</summary>
    public static byte[] RevisionKey(Revision rev)
    {
        var k = new byte[RevisionKeyLength];
        WriteRevisionKey(k, rev);
        return k;
    }

    /// <summary>Reads a revision key.</summary>
    public static Revision ReadRevisionKey(ReadOnlySpan<byte> key) =>
        new(BinaryPrimitives.ReadInt64BigEndian(key[1..]), BinaryPrimitives.ReadInt64BigEndian(key[9..]));

    /// <summary>An upper bound on the encoded size of <paramref name="kv"/>.</summary>
    public static int MaxEncodedLength(KeyValue kv) => 1 + (4 * 10) + kv.Key.Length + kv.Value.Length;

    /// <summary>Encodes <paramref name="kv"/> into <paramref name="dest"/>; returns the length.</summary>
    public static int Encode(KeyValue kv, Span<byte> dest)
    {
        if (kv.IsTombstone)
        {
            dest[0] = TombstoneKind;
            kv.Key.CopyTo(dest[1..]);
            return 1 + kv.Key.Length;
        }

        dest[0] = PutKind;
        var n = 1;
        n += WriteVarint(dest[n..], (ulong)kv.CreateRevision);
        n += WriteVarint(dest[n..], (ulong)kv.Version);
        n += WriteVarint(dest[n..], (ulong)kv.Lease);
        n += WriteVarint(dest[n..], (ulong)kv.Key.Length);
        kv.Key.CopyTo(dest[n..]);
        n += kv.Key.Length;
        kv.Value.CopyTo(dest[n..]);
        return n + kv.Value.Length;
    }

    /// <summary>Decodes a value stored at <paramref name="modRevision"/>.</summary>
    public static KeyValue Decode(ReadOnlySpan<byte> src, long modRevision)
    {
        switch (src[0])
        {
            case TombstoneKind:
                return new KeyValue { Key = src[1..].ToArray(), ModRevision = modRevision };
            case PutKind:
                var n = 1;
                var create = (long)ReadVarint(src, ref n);
                var version = (long)ReadVarint(src, ref n);
                var lease = (long)ReadVarint(src, ref n);
                var keyLength = (int)ReadVarint(src, ref n);
                var key = src.Slice(n, keyLength).ToArray();
                n += keyLength;
                return new KeyValue
                {
                    Key = key,
                    CreateRevision = create,
                    ModRevision = modRevision,
                    Version = version,
                    Lease = lease,
                    Value = src[n..].ToArray(),
                };
            default:
                throw new InvalidDataException($"unknown record kind {src[0]} at revision {modRevision}");
        }
    }

    /// <summary>
    /// Reads what the key index needs from a value (no copy of the value): the key, and for a put its
    /// create revision, version and lease. <paramref name="createRevision"/> is 0 for a tombstone.
    /// </summary>
    public static ReadOnlySpan<byte> DecodeIndexFields(ReadOnlySpan<byte> src, long modRevision, out long createRevision, out long version, out long lease)
    {
        switch (src[0])
        {
            case TombstoneKind:
                createRevision = 0;
                version = 0;
                lease = 0;
                return src[1..];
            case PutKind:
                var n = 1;
                createRevision = (long)ReadVarint(src, ref n);
                version = (long)ReadVarint(src, ref n);
                lease = (long)ReadVarint(src, ref n);
                var keyLength = (int)ReadVarint(src, ref n);
                return src.Slice(n, keyLength);
            default:
                throw new InvalidDataException($"unknown record kind {src[0]} at revision {modRevision}");
        }
    }

    private static int WriteVarint(Span<byte> dest, ulong v)
    {
        var n = 0;
        while (v >= 0x80)
        {
            dest[n++] = (byte)(v | 0x80);
            v >>= 7;
        }

        dest[n++] = (byte)v;
        return n;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> src, ref int n)
    {
        ulong v = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = src[n++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return v;
            }
        }

        throw new InvalidDataException("varint too long");
    }
}
