namespace Ketch.Raft.Quorum;

/// <summary>
/// Two majority configurations that must both agree (joint consensus, Raft thesis §4.3).
/// Outside a membership change the outgoing half is empty and this is a plain majority.
/// </summary>
/// <param name="Incoming">The new (or only) voter set.</param>
/// <param name="Outgoing">The old voter set during a joint change, else empty.</param>
public sealed record JointConfig(MajorityConfig Incoming, MajorityConfig Outgoing)
{
    /// <summary>Whether this is a joint configuration.</summary>
    public bool IsJoint => Outgoing.Count > 0;

    /// <summary>Every voter of either half, sorted.</summary>
    public IReadOnlyList<ulong> Ids => Incoming.Ids.Union(Outgoing.Ids).Order().ToArray();

    /// <summary>Whether <paramref name="id"/> votes in either half.</summary>
    public bool Contains(ulong id) => Incoming.Contains(id) || Outgoing.Contains(id);

    /// <summary>The largest index committed by both halves.</summary>
    public ulong CommittedIndex(IAckedIndexer acked) =>
        Math.Min(Incoming.CommittedIndex(acked), Outgoing.CommittedIndex(acked));

    /// <summary>Won only if both halves won; lost if either lost.</summary>
    public VoteResult Tally(IReadOnlyDictionary<ulong, bool> votes)
    {
        var a = Incoming.Tally(votes);
        var b = Outgoing.Tally(votes);
        if (a == b)
        {
            return a;
        }
        return a == VoteResult.Lost || b == VoteResult.Lost ? VoteResult.Lost : VoteResult.Pending;
    }

    /// <summary>A stable text form: <c>(1 2 3)</c> or <c>(1 2 3)&amp;&amp;(1 2 4)</c>.</summary>
    public string Describe() => IsJoint ? Incoming.Describe() + "&&" + Outgoing.Describe() : Incoming.Describe();
}
