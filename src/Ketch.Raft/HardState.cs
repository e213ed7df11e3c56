namespace Ketch.Raft;

/// <summary>
/// The state a member must make durable before it sends the messages that depend on it
/// (Raft §5.1 figure 2, "persistent state on all servers"; <see cref="Commit"/> is kept too so a
/// restart need not relearn it).
/// </summary>
/// <param name="Term">The latest term this member has seen.</param>
/// <param name="Vote">The candidate this member voted for in <paramref name="Term"/>, or 0.</param>
/// <param name="Commit">The highest log index known to be committed.</param>
public readonly record struct HardState(ulong Term, ulong Vote, ulong Commit)
{
    /// <summary>The state of a member that has never run.</summary>
    public static HardState Empty => default;

    /// <summary>True when nothing has been recorded yet.</summary>
    public bool IsEmpty => Term == 0 && Vote == 0 && Commit == 0;

    /// <summary>A stable text form for logs and golden tests.</summary>
    public string Describe() => $"Term:{Term} Vote:{Vote} Commit:{Commit}";
}
