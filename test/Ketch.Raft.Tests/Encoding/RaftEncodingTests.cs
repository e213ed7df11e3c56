using System.Buffers;
using CsCheck;
using Ketch.Raft.Encoding;
using Xunit;

namespace Ketch.Raft.Tests.Encoding;

public class RaftEncodingTests
{
    private static readonly Gen<ulong> SmallOrLarge = Gen.OneOf(Gen.ULong[0, 300], Gen.ULong);

    private static readonly Gen<Entry> GenEntry =
        Gen.Select(SmallOrLarge, SmallOrLarge, Gen.Byte[0, 2], Gen.Byte.Array[0, 40],
            (t, i, ty, d) => new Entry(t, i, (EntryType)ty, d));

    private static readonly Gen<ConfState> GenConfState =
        Gen.Select(SmallOrLarge.Array[0, 5], SmallOrLarge.Array[0, 3], SmallOrLarge.Array[0, 3], Gen.Bool,
            (v, l, o, a) => new ConfState { Voters = v, Learners = l, VotersOutgoing = o, LearnersNext = l.Take(1).ToArray(), AutoLeave = a });

    private static readonly Gen<Snapshot> GenSnapshot =
        Gen.Select(SmallOrLarge, SmallOrLarge, GenConfState, Gen.Byte.Array[0, 64],
            (i, t, cs, d) => new Snapshot(d, new SnapshotMetadata(i, t, cs)));

    private static readonly Gen<Message> GenMessage =
        Gen.Select(Gen.Byte[0, (byte)MessageType.PreVoteResp], SmallOrLarge, SmallOrLarge, SmallOrLarge, SmallOrLarge, SmallOrLarge, SmallOrLarge,
            (ty, to, from, term, logTerm, index, commit) => (ty, to, from, term, logTerm, index, commit))
        .Select(Gen.Bool, SmallOrLarge, GenEntry.Array[0, 4], Gen.Byte.Array[0, 8], GenSnapshot.Null(),
            (h, reject, hint, entries, ctx, snap) => new Message
            {
                Type = (MessageType)h.ty,
                To = h.to,
                From = h.from,
                Term = h.term,
                LogTerm = h.logTerm,
                Index = h.index,
                Commit = h.commit,
                Reject = reject,
                RejectHint = hint,
                Entries = entries,
                Context = ctx,
                Snapshot = snap,
            });

    [Fact]
    public void MessagesRoundTrip() =>
        GenMessage.Sample(m =>
        {
            var decoded = RaftEncoding.ReadMessage(RaftEncoding.ToBytes(m));
            Assert.Equal(m.Describe(), decoded.Describe());
            Assert.Equal(m.Entries.Length, decoded.Entries.Length);
            for (var i = 0; i < m.Entries.Length; i++)
            {
                Assert.True(m.Entries.Span[i].Data.Span.SequenceEqual(decoded.Entries.Span[i].Data.Span));
                Assert.Equal(m.Entries.Span[i].Type, decoded.Entries.Span[i].Type);
            }
            Assert.Equal(m.Snapshot?.Metadata, decoded.Snapshot?.Metadata);
            Assert.Equal(m.Snapshot?.Data.ToArray(), decoded.Snapshot?.Data.ToArray());
        }, iter: 2000);

    [Fact]
    public void RecordsRoundTrip()
    {
        GenEntry.Sample(e =>
        {
            var d = RaftEncoding.ReadEntry(Encode(b => RaftEncoding.Write(b, e)));
            Assert.Equal((e.Term, e.Index, e.Type), (d.Term, d.Index, d.Type));
            Assert.Equal(e.Data.ToArray(), d.Data.ToArray());
        });
        Gen.Select(SmallOrLarge, SmallOrLarge, SmallOrLarge).Sample((t, v, c) =>
        {
            var hs = new HardState(t, v, c);
            Assert.Equal(hs, RaftEncoding.ReadHardState(Encode(b => RaftEncoding.Write(b, hs))));
        });
        GenConfState.Sample(cs => Assert.Equal(cs, RaftEncoding.ReadConfState(Encode(b => RaftEncoding.Write(b, cs)))));
    }

    /// <summary>Any prefix of a valid encoding is refused with a decode error, never read as
    /// something else and never a crash of another kind.</summary>
    [Fact]
    public void TruncatedMessagesAreRefusedAtEveryOffset() =>
        GenMessage.Sample(m =>
        {
            var bytes = RaftEncoding.ToBytes(m);
            for (var n = 0; n < bytes.Length; n++)
            {
                Assert.Throws<RaftDecodeException>(() => RaftEncoding.ReadMessage(bytes.AsMemory(0, n)));
            }
        }, iter: 200);

    [Fact]
    public void TrailingBytesAreRefused()
    {
        var bytes = RaftEncoding.ToBytes(new Message { Type = MessageType.Heartbeat, To = 2, From = 1, Term = 3 });
        var ex = Assert.Throws<RaftDecodeException>(() => RaftEncoding.ReadMessage(bytes.Append((byte)0).ToArray()));
        Assert.Contains("trailing", ex.Message);
    }

    /// <summary>Pins the wire and disk format: changing it must be a deliberate, versioned act.</summary>
    [Fact]
    public void GoldenMessageBytes()
    {
        var m = new Message
        {
            Type = MessageType.App,
            To = 2,
            From = 1,
            Term = 5,
            LogTerm = 4,
            Index = 300,
            Commit = 299,
            Entries = new[] { new Entry(5, 301, EntryType.Normal, "hi"u8.ToArray()) },
        };
        Assert.Equal(
            "01" + "03" + "02" + "01" + "05" + "04" + "ac02" + "ab02" + "00" + "00"
            + "01" + "05" + "ad02" + "00" + "02" + "6869"
            + "00",
            Convert.ToHexStringLower(RaftEncoding.ToBytes(m)));
    }

    [Fact]
    public void GoldenHardStateAndEntryBytes()
    {
        Assert.Equal("07" + "03" + "8001", Convert.ToHexStringLower(Encode(b => RaftEncoding.Write(b, new HardState(7, 3, 128))).ToArray()));
        Assert.Equal("01" + "02" + "01" + "03" + "616263",
            Convert.ToHexStringLower(Encode(b => RaftEncoding.Write(b, new Entry(1, 2, EntryType.ConfChange, "abc"u8.ToArray()))).ToArray()));
    }

    [Fact]
    public void UnknownTypesAreRefused()
    {
        var bytes = RaftEncoding.ToBytes(new Message { Type = MessageType.Heartbeat, To = 2, From = 1, Term = 3 });
        bytes[1] = 200;
        Assert.Contains("unknown message type 200", Assert.Throws<RaftDecodeException>(() => RaftEncoding.ReadMessage(bytes)).Message);
        bytes[0] = 9;
        Assert.Contains("version 9", Assert.Throws<RaftDecodeException>(() => RaftEncoding.ReadMessage(bytes)).Message);
    }

    private static ReadOnlyMemory<byte> Encode(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return buffer.WrittenMemory;
    }
}
