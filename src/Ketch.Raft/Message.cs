using System.Text;

namespace Ketch.Raft;

/// <summary>
/// One message between members, or from the application or clock to the state machine.
/// Immutable: build it with an object initializer. Which fields mean something depends on
/// <see cref="Type"/>; unused fields are zero or empty.
/// </summary>
public sealed class Message
{
    /// <summary>The kind of message.</summary>
    public MessageType Type { get; init; }

    /// <summary>The receiving member.</summary>
    public ulong To { get; init; }

    /// <summary>The sending member.</summary>
    public ulong From { get; init; }

    /// <summary>The sender's term; 0 for local messages.</summary>
    public ulong Term { get; init; }

    /// <summary>For App: the term of the entry at <see cref="Index"/>. For Vote/PreVote: the
    /// candidate's last log term. For a rejecting AppResp: the term at <see cref="RejectHint"/>.</summary>
    public ulong LogTerm { get; init; }

    /// <summary>For App: the index preceding <see cref="Entries"/>. For AppResp: the last index
    /// accepted, or the index rejected. For Vote/PreVote: the candidate's last log index.
    /// For ReadIndexResp: the read index.</summary>
    public ulong Index { get; init; }

    /// <summary>Entries to append (App) or to propose (Prop).</summary>
    public ReadOnlyMemory<Entry> Entries { get; init; }

    /// <summary>The sender's commit index (App, Heartbeat).</summary>
    public ulong Commit { get; init; }

    /// <summary>The snapshot to install (Snap).</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>True when the request is refused (AppResp, VoteResp, PreVoteResp, SnapStatus).</summary>
    public bool Reject { get; init; }

    /// <summary>For a rejecting AppResp: the index from which the follower suggests the leader
    /// probe (fast backtracking, Raft §5.3 "optimization").</summary>
    public ulong RejectHint { get; init; }

    /// <summary>Opaque context: campaign kind on votes, request id on ReadIndex and heartbeats.</summary>
    public ReadOnlyMemory<byte> Context { get; init; }

    /// <summary>A stable text form for logs and golden tests, e.g.
    /// <c>1-&gt;2 MsgApp Term:1 Log:1/3 Commit:3 Entries:[1/4 EntryNormal "x"]</c>.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append(From).Append("->").Append(To).Append(' ').Append(Type.Name());
        sb.Append(" Term:").Append(Term);
        if (Type is MessageType.App or MessageType.Vote or MessageType.PreVote
            || (Type is MessageType.AppResp && Reject))
        {
            sb.Append(" Log:").Append(LogTerm).Append('/').Append(Index);
        }
        else if (Index != 0 || Type is MessageType.AppResp or MessageType.ReadIndexResp)
        {
            sb.Append(" Index:").Append(Index);
        }
        if (Reject)
        {
            sb.Append(" Rejected (Hint: ").Append(RejectHint).Append(')');
        }
        if (Commit != 0 || Type is MessageType.App or MessageType.Heartbeat)
        {
            sb.Append(" Commit:").Append(Commit);
        }
        if (!Entries.IsEmpty)
        {
            sb.Append(" Entries:[");
            var span = Entries.Span;
            for (var i = 0; i < span.Length; i++)
            {
                if (i > 0)
                {
                    sb.Append(", ");
                }
                sb.Append(span[i].Describe());
            }
            sb.Append(']');
        }
        if (!Context.IsEmpty)
        {
            sb.Append(" Context:");
            Describer.AppendData(sb, Context.Span);
        }
        if (Snapshot is { IsEmpty: false } snap)
        {
            sb.Append(" Snapshot: ").Append(snap.Describe());
        }
        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Describe();
}
