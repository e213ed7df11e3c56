namespace Ketch.Raft.Quorum;

/// <summary>The outcome of an election tally so far.</summary>
public enum VoteResult : byte
{
    /// <summary>Not decided: missing votes could still go either way.</summary>
    Pending = 0,

    /// <summary>A quorum rejected; the election is lost.</summary>
    Lost = 1,

    /// <summary>A quorum granted; the election is won.</summary>
    Won = 2,
}
