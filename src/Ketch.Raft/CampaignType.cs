namespace Ketch.Raft;

/// <summary>Why a member campaigns.</summary>
internal enum CampaignType : byte
{
    /// <summary>A pre-vote round first (thesis §9.6).</summary>
    PreElection,

    /// <summary>A normal election (Raft §5.2).</summary>
    Election,

    /// <summary>An election asked for by the leader during a transfer: it overrides leader
    /// stickiness and skips pre-vote (thesis §3.10).</summary>
    Transfer,
}
