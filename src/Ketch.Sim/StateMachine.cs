using System.Buffers.Binary;
using System.Text;
using Ketch.Raft;

namespace Ketch.Sim;

/// <summary>
/// A member's application state: the proposal numbers applied, in order, and a hash chain
/// over every applied entry (so two state machines at the same index are equal iff their
/// chains are). In memory only: a restarted member rebuilds it from its snapshot and then
/// re-applies the committed entries Raft hands out again.
/// </summary>
internal sealed class StateMachine
{
    private readonly List<int> _proposals = [];

    /// <summary>The last index applied.</summary>
    public ulong AppliedIndex { get; private set; }

    /// <summary>The hash chain as of <see cref="AppliedIndex"/>.</summary>
    public ulong Chain { get; private set; }

    /// <summary>The configuration as of <see cref="AppliedIndex"/> (the application records the
    /// <see cref="ConfState"/> each applied change yields, for its snapshots), or null for a
    /// fresh state machine that has not read its snapshot yet.</summary>
    public ConfState? Conf { get; set; }

    /// <summary>The proposal numbers applied, in apply order (duplicates possible: the network
    /// may deliver a forwarded proposal twice).</summary>
    public IReadOnlyList<int> Proposals => _proposals;

    /// <summary>Applies one committed entry; it must be the next index.</summary>
    public EntryId Apply(Entry e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Index != AppliedIndex + 1)
        {
            throw new SafetyViolationException(ViolationKind.StateMachineSafety,
                $"applying entry {e.Index} after {AppliedIndex}: committed entries must come in order, without gaps");
        }
        var id = EntryId.Of(e);
        Chain = EntryId.Chain(Chain, e.Index, id);
        AppliedIndex = e.Index;
        if (TryParseProposal(e.Data.Span, out var n))
        {
            _proposals.Add(n);
        }
        return id;
    }

    /// <summary>The snapshot data: applied index, chain, then the proposal numbers.</summary>
    public byte[] Serialize()
    {
        var bytes = new byte[20 + (4 * _proposals.Count)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, AppliedIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), Chain);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), _proposals.Count);
        for (var i = 0; i < _proposals.Count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20 + (4 * i)), _proposals[i]);
        }
        return bytes;
    }

    /// <summary>Replaces the state with a snapshot's (an empty snapshot means the initial state).</summary>
    public void Restore(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _proposals.Clear();
        Conf = snapshot.Metadata.ConfState;
        if (snapshot.IsEmpty)
        {
            AppliedIndex = 0;
            Chain = 0;
            return;
        }
        var data = snapshot.Data.Span;
        var index = BinaryPrimitives.ReadUInt64LittleEndian(data);
        if (index != snapshot.Metadata.Index)
        {
            throw new SafetyViolationException(ViolationKind.StateMachineSafety,
                $"snapshot metadata says index {snapshot.Metadata.Index} but its data is the state as of {index}");
        }
        AppliedIndex = index;
        Chain = BinaryPrimitives.ReadUInt64LittleEndian(data[8..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(data[16..]);
        for (var i = 0; i < count; i++)
        {
            _proposals.Add(BinaryPrimitives.ReadInt32LittleEndian(data[(20 + (4 * i))..]));
        }
    }

    /// <summary>The payload of proposal <paramref name="n"/> of run <paramref name="seed"/>.</summary>
    public static byte[] Payload(ulong seed, int n) => Encoding.ASCII.GetBytes($"s{seed}-p{n}");

    /// <summary>The request context of read <paramref name="n"/>.</summary>
    public static byte[] ReadContext(int n) => Encoding.ASCII.GetBytes($"r{n}");

    /// <summary>Reads the read number back from a request context ("r{n}").</summary>
    public static bool TryParseRead(ReadOnlySpan<byte> context, out int n)
    {
        n = 0;
        if (context.Length < 2 || context[0] != (byte)'r')
        {
            return false;
        }
        foreach (var b in context[1..])
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            n = (n * 10) + (b - '0');
        }
        return true;
    }

    /// <summary>Reads the proposal number back from a payload ("s{seed}-p{n}").</summary>
    public static bool TryParseProposal(ReadOnlySpan<byte> data, out int n)
    {
        n = 0;
        var dash = data.LastIndexOf((byte)'-');
        if (dash < 0 || dash + 2 > data.Length || data[dash + 1] != (byte)'p')
        {
            return false;
        }
        foreach (var b in data[(dash + 2)..])
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            n = (n * 10) + (b - '0');
        }
        return true;
    }
}
