namespace Ketch.Raft;

/// <summary>The outcome of stepping a message or proposing. Expected refusals are values.</summary>
public enum StepResult : byte
{
    /// <summary>Accepted (which for a proposal means appended or forwarded, not committed).</summary>
    Ok = 0,

    /// <summary>A proposal was dropped: no known leader, forwarding disabled, a leadership
    /// transfer in progress, this leader removed from the group, or the uncommitted-size limit
    /// reached. The caller may retry later.</summary>
    ProposalDropped = 1,

    /// <summary>A local-only message (Hup, Beat, ...) was stepped as if it came from a peer.</summary>
    LocalMessage = 2,

    /// <summary>A response came from a member this leader does not track.</summary>
    PeerNotFound = 3,
}
