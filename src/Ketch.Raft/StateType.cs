namespace Ketch.Raft;

/// <summary>The role a member plays (Raft §5.1, plus the pre-candidate of thesis §9.6).</summary>
public enum StateType : byte
{
    /// <summary>Follows a leader, or waits for one.</summary>
    Follower = 0,

    /// <summary>Campaigning for votes in a new term.</summary>
    Candidate = 1,

    /// <summary>Leads the group for the current term.</summary>
    Leader = 2,

    /// <summary>Asking whether it could win an election, before disrupting anyone.</summary>
    PreCandidate = 3,
}

/// <summary>Volatile state worth reporting to the application: who leads and in which role
/// this member is. It is not persisted.</summary>
/// <param name="Lead">The known leader, or 0.</param>
/// <param name="RaftState">This member's role.</param>
public readonly record struct SoftState(ulong Lead, StateType RaftState)
{
    /// <summary>A stable text form for logs and golden tests.</summary>
    public string Describe() => $"Lead:{Lead} State:State{RaftState}";
}
