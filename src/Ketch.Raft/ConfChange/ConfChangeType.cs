namespace Ketch.Raft;

/// <summary>One membership operation. Numbers are part of the encoding.</summary>
public enum ConfChangeType : byte
{
    /// <summary>Add a voter, or promote a learner to voter.</summary>
    AddNode = 0,

    /// <summary>Remove a member (voter or learner).</summary>
    RemoveNode = 1,

    /// <summary>No change to the configuration; lets the application update a member's data
    /// (e.g. its address) through the log.</summary>
    UpdateNode = 2,

    /// <summary>Add a learner, or demote a voter to learner.</summary>
    AddLearnerNode = 3,
}

/// <summary>How a <see cref="ConfChangeV2"/> moves to the new configuration.</summary>
public enum ConfChangeTransition : byte
{
    /// <summary>Simple (one step) when at most one voter changes; otherwise joint consensus,
    /// left automatically.</summary>
    Auto = 0,

    /// <summary>Always joint consensus, left automatically once the joint configuration is
    /// committed and applied.</summary>
    JointImplicit = 1,

    /// <summary>Always joint consensus; the application leaves it by proposing an empty
    /// <see cref="ConfChangeV2"/>.</summary>
    JointExplicit = 2,
}
