using System.Text;

namespace Ketch.Raft;

/// <summary>
/// The membership of a group as of some log index: who votes, who only learns, and, during a
/// joint configuration (Raft thesis §4.3), the outgoing voters and the learners that join when
/// it is left. Id lists are kept sorted so the value has one text and binary form.
/// </summary>
public sealed record ConfState
{
    /// <summary>An empty configuration.</summary>
    public static ConfState Empty { get; } = new();

    /// <summary>Members whose votes and acknowledgements count (the incoming half when joint).</summary>
    public IReadOnlyList<ulong> Voters { get; init; } = [];

    /// <summary>Members that receive the log but neither vote nor count toward commit.</summary>
    public IReadOnlyList<ulong> Learners { get; init; } = [];

    /// <summary>The outgoing voters of a joint configuration; empty when not joint.</summary>
    public IReadOnlyList<ulong> VotersOutgoing { get; init; } = [];

    /// <summary>Voters of the outgoing half that become learners when the joint state is left.</summary>
    public IReadOnlyList<ulong> LearnersNext { get; init; } = [];

    /// <summary>Whether the leader leaves the joint configuration by itself once it can.</summary>
    public bool AutoLeave { get; init; }

    /// <summary>Builds a simple (non-joint) configuration.</summary>
    public static ConfState Of(IEnumerable<ulong> voters, IEnumerable<ulong>? learners = null) => new()
    {
        Voters = voters.Order().ToArray(),
        Learners = (learners ?? []).Order().ToArray(),
    };

    /// <summary>Value equality over the id lists (records compare lists by reference otherwise).</summary>
    public bool Equals(ConfState? other) =>
        other is not null
        && Voters.SequenceEqual(other.Voters)
        && Learners.SequenceEqual(other.Learners)
        && VotersOutgoing.SequenceEqual(other.VotersOutgoing)
        && LearnersNext.SequenceEqual(other.LearnersNext)
        && AutoLeave == other.AutoLeave;

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var list in (IReadOnlyList<ulong>[])[Voters, Learners, VotersOutgoing, LearnersNext])
        {
            hash.Add(list.Count);
            foreach (var id in list)
            {
                hash.Add(id);
            }
        }
        hash.Add(AutoLeave);
        return hash.ToHashCode();
    }

    /// <summary>A stable text form for logs and golden tests.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append("Voters:");
        Describer.AppendIds(sb, Voters);
        if (VotersOutgoing.Count > 0)
        {
            sb.Append("&&");
            Describer.AppendIds(sb, VotersOutgoing);
        }
        if (Learners.Count > 0)
        {
            sb.Append(" Learners:");
            Describer.AppendIds(sb, Learners);
        }
        if (LearnersNext.Count > 0)
        {
            sb.Append(" LearnersNext:");
            Describer.AppendIds(sb, LearnersNext);
        }
        if (AutoLeave)
        {
            sb.Append(" AutoLeave");
        }
        return sb.ToString();
    }
}
