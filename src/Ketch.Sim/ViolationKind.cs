namespace Ketch.Sim;

/// <summary>Which property a run broke.</summary>
internal enum ViolationKind
{
    /// <summary>Two leaders in one term (Raft §5.2, figure 3 "Election Safety").</summary>
    ElectionSafety,

    /// <summary>Two logs hold the same (index, term) but differ before it, or one entry id
    /// names two different entries (Raft §5.3 "Log Matching").</summary>
    LogMatching,

    /// <summary>A leader lacks an entry committed in an earlier term (Raft §5.4 "Leader
    /// Completeness").</summary>
    LeaderCompleteness,

    /// <summary>Two members applied different entries at one index, or a snapshot disagrees
    /// with what was applied (Raft §5.4.3 "State Machine Safety").</summary>
    StateMachineSafety,

    /// <summary>A member's commit index went backwards while up, or a restart came back below
    /// the commit index it had persisted.</summary>
    CommitMonotonicity,

    /// <summary>A read index below an index already committed when the read was issued: the read
    /// could miss a completed write (thesis §6.4).</summary>
    Linearizability,

    /// <summary>A leader that is not a voter of the configuration it has applied, a member whose
    /// configuration is not the cluster's as of its applied index, or a snapshot carrying the
    /// wrong configuration (thesis §4).</summary>
    MembershipSafety,

    /// <summary>An entry committed without being durable on a majority of the voters of the
    /// configuration in force (of both halves when joint, thesis §4.3).</summary>
    CommitQuorum,

    /// <summary>After healing every fault, the cluster did not converge within the budget.</summary>
    Liveness,

    /// <summary>The Raft core threw: it detected an impossible state itself.</summary>
    RaftPanic,

    /// <summary>The simulator broke one of its own assumptions (a bug in the harness, or a
    /// contract the core broke, such as handing out a stale snapshot).</summary>
    SimulatorInvariant,
}
