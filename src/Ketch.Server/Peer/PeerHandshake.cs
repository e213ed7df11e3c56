using System.Buffers.Binary;

namespace Ketch.Server.Peer;

/// <summary>
/// The first bytes of a peer connection, so a member of another cluster (or a stranger) is
/// refused before any Raft message is read: <c>"KTP1" | cluster id | from | to</c> (uint64 LE),
/// answered by one status byte.
/// </summary>
internal static class PeerHandshake
{
    public const int Bytes = 28;
    public const byte Accepted = 0;
    public const byte WrongCluster = 1;
    public const byte WrongMember = 2;

    /// <summary>The answer to a query handshake (cluster id 0, to 0) from a member about to join:
    /// followed by a 4-byte length and the JSON of <see cref="ClusterInfo"/>.</summary>
    public const byte Info = 3;

    /// <summary>The dialer was removed from the cluster: it must stop (etcd answers such a peer
    /// with 410 Gone).</summary>
    public const byte Removed = 4;

    /// <summary>Sent by the receiver of a snapshot stream, after it, when the stream was not whole
    /// (cut short or corrupt) and was dropped: the sender reports the snapshot as failed. A whole
    /// stream is answered by closing the connection alone, as before this byte existed.</summary>
    public const byte SnapshotRefused = 5;

    private static ReadOnlySpan<byte> Magic => "KTP1"u8;

    /// <summary>The magic of a connection carrying one snapshot: a framed Snap message followed by
    /// the store's snapshot stream up to the end of the connection.</summary>
    private static ReadOnlySpan<byte> SnapshotMagic => "KTS1"u8;

    /// <summary>The magic of a connection asking for the store's hash (<see cref="PeerHashQuery"/>).</summary>
    private static ReadOnlySpan<byte> HashMagic => "KTH1"u8;

    /// <summary>The magic of a connection measuring the round trip (<see cref="PeerProbe"/>).</summary>
    private static ReadOnlySpan<byte> ProbeMagic => "KTR1"u8;

    public static byte[] Write(ulong clusterId, ulong from, ulong to, bool snapshot = false) =>
        Write(clusterId, from, to, snapshot ? PeerStreamKind.Snapshot : PeerStreamKind.Messages);

    public static byte[] Write(ulong clusterId, ulong from, ulong to, PeerStreamKind kind)
    {
        var b = new byte[Bytes];
        (kind switch { PeerStreamKind.Snapshot => SnapshotMagic, PeerStreamKind.Hash => HashMagic, PeerStreamKind.Probe => ProbeMagic, _ => Magic }).CopyTo(b);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(4), clusterId);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(12), from);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(20), to);
        return b;
    }

    public static bool TryRead(ReadOnlySpan<byte> b, out ulong clusterId, out ulong from, out ulong to, out PeerStreamKind kind)
    {
        clusterId = from = to = 0;
        kind = PeerStreamKind.Messages;
        if (b.Length < Bytes)
        {
            return false;
        }
        if (b[..4].SequenceEqual(SnapshotMagic))
        {
            kind = PeerStreamKind.Snapshot;
        }
        else if (b[..4].SequenceEqual(HashMagic))
        {
            kind = PeerStreamKind.Hash;
        }
        else if (b[..4].SequenceEqual(ProbeMagic))
        {
            kind = PeerStreamKind.Probe;
        }
        else if (!b[..4].SequenceEqual(Magic))
        {
            return false;
        }
        clusterId = BinaryPrimitives.ReadUInt64LittleEndian(b[4..]);
        from = BinaryPrimitives.ReadUInt64LittleEndian(b[12..]);
        to = BinaryPrimitives.ReadUInt64LittleEndian(b[20..]);
        return true;
    }
}

/// <summary>What a peer connection carries after its handshake.</summary>
internal enum PeerStreamKind
{
    /// <summary>Framed Raft messages, for as long as the connection lives.</summary>
    Messages,

    /// <summary>One snapshot: a Snap message and the store's stream.</summary>
    Snapshot,

    /// <summary>One hash query and its answer (<see cref="PeerHashQuery"/>).</summary>
    Hash,

    /// <summary>One round-trip probe and its echo (<see cref="PeerProbe"/>).</summary>
    Probe,
}
