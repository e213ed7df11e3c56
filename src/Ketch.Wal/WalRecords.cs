using Ketch.Raft;
using Ketch.Raft.Encoding;

namespace Ketch.Wal;

/// <summary>Encodes the WAL's records into frames. Entries, hard states and configurations use
/// the Raft binary encoding (<see cref="RaftEncoding"/>) unchanged.</summary>
internal static class WalRecords
{
    public static void WriteEntry(PooledBufferWriter w, Entry entry)
    {
        var start = RecordFrame.Begin(w);
        RaftEncoding.Write(w, entry);
        RecordFrame.End(w, start, RecordType.Entry);
    }

    public static void WriteHardState(PooledBufferWriter w, HardState state)
    {
        var start = RecordFrame.Begin(w);
        RaftEncoding.Write(w, state);
        RecordFrame.End(w, start, RecordType.HardState);
    }

    public static void WriteSnapshotMarker(PooledBufferWriter w, SnapshotMarker marker)
    {
        var start = RecordFrame.Begin(w);
        RaftEncoding.WriteVarint(w, marker.Index);
        RaftEncoding.WriteVarint(w, marker.Term);
        RecordFrame.End(w, start, RecordType.SnapshotMarker);
    }

    public static void WriteMetadata(PooledBufferWriter w, WalMetadata metadata)
    {
        var start = RecordFrame.Begin(w);
        RaftEncoding.WriteVarint(w, metadata.MemberId);
        RaftEncoding.WriteVarint(w, metadata.ClusterId);
        RaftEncoding.Write(w, metadata.Bootstrap);
        RecordFrame.End(w, start, RecordType.Metadata);
    }

    public static SnapshotMarker ReadSnapshotMarker(ReadOnlySpan<byte> payload)
    {
        var pos = 0;
        if (!RaftEncoding.TryReadVarint(payload, ref pos, out var index) || !RaftEncoding.TryReadVarint(payload, ref pos, out var term) || pos != payload.Length)
        {
            throw new RaftDecodeException("invalid snapshot marker");
        }
        return new SnapshotMarker(index, term);
    }

    public static WalMetadata ReadMetadata(ReadOnlyMemory<byte> payload)
    {
        var pos = 0;
        if (!RaftEncoding.TryReadVarint(payload.Span, ref pos, out var member) || !RaftEncoding.TryReadVarint(payload.Span, ref pos, out var cluster))
        {
            throw new RaftDecodeException("invalid WAL metadata");
        }
        return new WalMetadata(member, cluster, RaftEncoding.ReadConfState(payload[pos..]));
    }
}
