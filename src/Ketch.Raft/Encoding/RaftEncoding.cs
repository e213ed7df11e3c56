using System.Buffers;

namespace Ketch.Raft.Encoding;

/// <summary>
/// The one binary encoding of Raft's records, shared by the WAL and the peer transport. The
/// format is specified in docs/raft-encoding.md; golden tests pin it, so any change here is a
/// change of on-disk and on-wire format and needs a new version byte.
/// </summary>
public static class RaftEncoding
{
    /// <summary>The version byte that starts every encoded <see cref="Message"/>.</summary>
    public const byte MessageFormatVersion = 1;

    private const byte FlagReject = 1;
    private const byte FlagSnapshot = 2;

    /// <summary>Writes an entry: term, index, type, data.</summary>
    public static void Write(IBufferWriter<byte> output, Entry entry)
    {
        var w = new RaftWriter(output);
        w.WriteVarint(entry.Term);
        w.WriteVarint(entry.Index);
        w.WriteByte((byte)entry.Type);
        w.WriteBytes(entry.Data.Span);
    }

    /// <summary>Reads an entry written by <see cref="Write(IBufferWriter{byte}, Entry)"/>; its data
    /// shares <paramref name="input"/>. The whole input must be consumed.</summary>
    public static Entry ReadEntry(ReadOnlyMemory<byte> input)
    {
        var r = new RaftReader(input);
        var e = ReadEntry(ref r);
        EnsureEnd(ref r, "entry");
        return e;
    }

    /// <summary>Writes a hard state.</summary>
    public static void Write(IBufferWriter<byte> output, HardState state)
    {
        var w = new RaftWriter(output);
        w.WriteVarint(state.Term);
        w.WriteVarint(state.Vote);
        w.WriteVarint(state.Commit);
    }

    /// <summary>Reads a hard state; the whole input must be consumed.</summary>
    public static HardState ReadHardState(ReadOnlyMemory<byte> input)
    {
        var r = new RaftReader(input);
        var hs = new HardState(r.ReadVarint(), r.ReadVarint(), r.ReadVarint());
        EnsureEnd(ref r, "hard state");
        return hs;
    }

    /// <summary>Writes a configuration.</summary>
    public static void Write(IBufferWriter<byte> output, ConfState state)
    {
        var w = new RaftWriter(output);
        WriteConfState(ref w, state);
    }

    /// <summary>Reads a configuration; the whole input must be consumed.</summary>
    public static ConfState ReadConfState(ReadOnlyMemory<byte> input)
    {
        var r = new RaftReader(input);
        var cs = ReadConfState(ref r);
        EnsureEnd(ref r, "conf state");
        return cs;
    }

    /// <summary>Writes a snapshot: metadata, then data.</summary>
    public static void Write(IBufferWriter<byte> output, Snapshot snapshot)
    {
        var w = new RaftWriter(output);
        WriteSnapshot(ref w, snapshot);
    }

    /// <summary>Reads a snapshot; its data shares <paramref name="input"/>.</summary>
    public static Snapshot ReadSnapshot(ReadOnlyMemory<byte> input)
    {
        var r = new RaftReader(input);
        var s = ReadSnapshot(ref r);
        EnsureEnd(ref r, "snapshot");
        return s;
    }

    /// <summary>Writes a message: version, type, ids and indexes, flags, entries, context and
    /// (if any) the snapshot.</summary>
    public static void Write(IBufferWriter<byte> output, Message m)
    {
        var w = new RaftWriter(output);
        w.WriteByte(MessageFormatVersion);
        w.WriteByte((byte)m.Type);
        w.WriteVarint(m.To);
        w.WriteVarint(m.From);
        w.WriteVarint(m.Term);
        w.WriteVarint(m.LogTerm);
        w.WriteVarint(m.Index);
        w.WriteVarint(m.Commit);
        w.WriteVarint(m.RejectHint);
        var hasSnapshot = m.Snapshot is not null;
        w.WriteByte((byte)((m.Reject ? FlagReject : 0) | (hasSnapshot ? FlagSnapshot : 0)));
        var entries = m.Entries.Span;
        w.WriteVarint((ulong)entries.Length);
        foreach (var e in entries)
        {
            w.WriteVarint(e.Term);
            w.WriteVarint(e.Index);
            w.WriteByte((byte)e.Type);
            w.WriteBytes(e.Data.Span);
        }
        w.WriteBytes(m.Context.Span);
        if (hasSnapshot)
        {
            WriteSnapshot(ref w, m.Snapshot!);
        }
    }

    /// <summary>Reads a message written by <see cref="Write(IBufferWriter{byte}, Message)"/>.
    /// Entry data, context and snapshot data share <paramref name="input"/>.</summary>
    public static Message ReadMessage(ReadOnlyMemory<byte> input)
    {
        var r = new RaftReader(input);
        var version = r.ReadByte();
        if (version != MessageFormatVersion)
        {
            throw new RaftDecodeException($"unknown message format version {version}");
        }
        var type = r.ReadByte();
        if (type > (byte)MessageType.PreVoteResp)
        {
            throw new RaftDecodeException($"unknown message type {type} at offset 1");
        }
        var to = r.ReadVarint();
        var from = r.ReadVarint();
        var term = r.ReadVarint();
        var logTerm = r.ReadVarint();
        var index = r.ReadVarint();
        var commit = r.ReadVarint();
        var rejectHint = r.ReadVarint();
        var flags = r.ReadByte();
        if ((flags & ~(FlagReject | FlagSnapshot)) != 0)
        {
            throw new RaftDecodeException($"unknown message flags 0x{flags:x2} at offset {r.Position - 1}");
        }
        var count = r.ReadLength("entry list");
        var entries = count == 0 ? [] : new Entry[count];
        for (var i = 0; i < count; i++)
        {
            entries[i] = ReadEntry(ref r);
        }
        var context = r.ReadBytes("context");
        var snapshot = (flags & FlagSnapshot) != 0 ? ReadSnapshot(ref r) : null;
        EnsureEnd(ref r, "message");
        return new Message
        {
            Type = (MessageType)type,
            To = to,
            From = from,
            Term = term,
            LogTerm = logTerm,
            Index = index,
            Commit = commit,
            RejectHint = rejectHint,
            Reject = (flags & FlagReject) != 0,
            Entries = entries,
            Context = context,
            Snapshot = snapshot,
        };
    }

    /// <summary>Encodes a v1 membership change (the data of an <see cref="EntryType.ConfChange"/>
    /// entry): type, node id, context.</summary>
    public static byte[] Encode(ConfChange cc)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new RaftWriter(buffer);
        w.WriteByte((byte)cc.Type);
        w.WriteVarint(cc.NodeId);
        w.WriteBytes(cc.Context.Span);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a v1 membership change.</summary>
    public static ConfChange ReadConfChange(ReadOnlyMemory<byte> input)
    {
        var r = new RaftReader(input);
        var type = ReadConfChangeType(ref r);
        var cc = new ConfChange(type, r.ReadVarint(), r.ReadBytes("conf change context"));
        EnsureEnd(ref r, "conf change");
        return cc;
    }

    /// <summary>Encodes a v2 membership change (the data of an
    /// <see cref="EntryType.ConfChangeV2"/> entry): transition, operations, context. The
    /// empty change (leave joint) encodes as zero bytes.</summary>
    public static byte[] Encode(ConfChangeV2 cc)
    {
        if (cc.IsLeaveJoint && cc.Context.IsEmpty)
        {
            return [];
        }
        var buffer = new ArrayBufferWriter<byte>();
        var w = new RaftWriter(buffer);
        w.WriteByte((byte)cc.Transition);
        w.WriteVarint((ulong)cc.Changes.Count);
        foreach (var c in cc.Changes)
        {
            w.WriteByte((byte)c.Type);
            w.WriteVarint(c.NodeId);
        }
        w.WriteBytes(cc.Context.Span);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a v2 membership change; empty input is the empty change.</summary>
    public static ConfChangeV2 ReadConfChangeV2(ReadOnlyMemory<byte> input)
    {
        if (input.IsEmpty)
        {
            return ConfChangeV2.LeaveJointChange;
        }
        var r = new RaftReader(input);
        var transition = r.ReadByte();
        if (transition > (byte)ConfChangeTransition.JointExplicit)
        {
            throw new RaftDecodeException($"unknown conf change transition {transition} at offset 0");
        }
        var n = r.ReadLength("conf change list");
        var changes = new ConfChangeSingle[n];
        for (var i = 0; i < n; i++)
        {
            var type = ReadConfChangeType(ref r);
            changes[i] = new ConfChangeSingle(type, r.ReadVarint());
        }
        var cc = new ConfChangeV2((ConfChangeTransition)transition, changes, r.ReadBytes("conf change context"));
        EnsureEnd(ref r, "conf change v2");
        return cc;
    }

    /// <summary>Reads the membership change in a conf-change entry of either version.</summary>
    public static ConfChangeV2 ReadConfChangeEntry(Entry entry) => entry.Type switch
    {
        EntryType.ConfChange => ReadConfChange(entry.Data).ToV2(),
        EntryType.ConfChangeV2 => ReadConfChangeV2(entry.Data),
        _ => throw new ArgumentException($"entry {entry.Index} is not a conf change", nameof(entry)),
    };

    private static ConfChangeType ReadConfChangeType(ref RaftReader r)
    {
        var offset = r.Position;
        var type = r.ReadByte();
        if (type > (byte)ConfChangeType.AddLearnerNode)
        {
            throw new RaftDecodeException($"unknown conf change type {type} at offset {offset}");
        }
        return (ConfChangeType)type;
    }

    /// <summary>Writes an unsigned LEB128 varint, the integer encoding of every Raft record;
    /// for containers (the WAL) that frame small records of their own the same way.</summary>
    public static void WriteVarint(IBufferWriter<byte> output, ulong value) => new RaftWriter(output).WriteVarint(value);

    /// <summary>Reads an unsigned LEB128 varint at <paramref name="position"/>, advancing it;
    /// false when the input is truncated or the value runs past 64 bits.</summary>
    public static bool TryReadVarint(ReadOnlySpan<byte> input, ref int position, out ulong value) =>
        RaftReader.TryReadVarint(input, ref position, out value);

    /// <summary>Encodes a message into a new array (convenience for tests and tools).</summary>
    public static byte[] ToBytes(Message m)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(buffer, m);
        return buffer.WrittenSpan.ToArray();
    }

    private static Entry ReadEntry(ref RaftReader r)
    {
        var term = r.ReadVarint();
        var index = r.ReadVarint();
        var typeOffset = r.Position;
        var type = r.ReadByte();
        if (type > (byte)EntryType.ConfChangeV2)
        {
            throw new RaftDecodeException($"unknown entry type {type} at offset {typeOffset}");
        }
        return new Entry(term, index, (EntryType)type, r.ReadBytes("entry data"));
    }

    private static void WriteConfState(ref RaftWriter w, ConfState cs)
    {
        w.WriteIds(cs.Voters);
        w.WriteIds(cs.Learners);
        w.WriteIds(cs.VotersOutgoing);
        w.WriteIds(cs.LearnersNext);
        w.WriteByte(cs.AutoLeave ? (byte)1 : (byte)0);
    }

    private static ConfState ReadConfState(ref RaftReader r)
    {
        var voters = r.ReadIds();
        var learners = r.ReadIds();
        var outgoing = r.ReadIds();
        var learnersNext = r.ReadIds();
        var autoLeave = r.ReadByte();
        if (autoLeave > 1)
        {
            throw new RaftDecodeException($"invalid auto-leave flag {autoLeave} at offset {r.Position - 1}");
        }
        return new ConfState
        {
            Voters = voters,
            Learners = learners,
            VotersOutgoing = outgoing,
            LearnersNext = learnersNext,
            AutoLeave = autoLeave == 1,
        };
    }

    private static void WriteSnapshot(ref RaftWriter w, Snapshot s)
    {
        w.WriteVarint(s.Metadata.Index);
        w.WriteVarint(s.Metadata.Term);
        WriteConfState(ref w, s.Metadata.ConfState);
        w.WriteBytes(s.Data.Span);
    }

    private static Snapshot ReadSnapshot(ref RaftReader r)
    {
        var index = r.ReadVarint();
        var term = r.ReadVarint();
        var cs = ReadConfState(ref r);
        var data = r.ReadBytes("snapshot data");
        return new Snapshot(data, new SnapshotMetadata(index, term, cs));
    }

    private static void EnsureEnd(ref RaftReader r, string what)
    {
        if (!r.AtEnd)
        {
            throw new RaftDecodeException($"{what} ends at offset {r.Position} but the input has trailing bytes");
        }
    }
}
