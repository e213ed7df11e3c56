namespace Ketch.Raft;

/// <summary>How a leader confirms it is still the leader before answering a read index
/// (Raft thesis §6.4).</summary>
public enum ReadOnlyOption : byte
{
    /// <summary>A heartbeat round acknowledged by a quorum confirms leadership; one round serves
    /// every read that arrived before it. Safe whatever the clocks do.</summary>
    Safe = 0,

    /// <summary>The leader trusts its lease: with check-quorum on, no other leader can exist
    /// before an election timeout passes without a quorum. No round trip, but it relies on
    /// bounded clock drift between members (thesis §6.4.1).</summary>
    LeaseBased = 1,
}
