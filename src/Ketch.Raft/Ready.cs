namespace Ketch.Raft;

/// <summary>
/// What the state machine asks the application to do, handed out by <see cref="RawNode.Ready"/>.
/// The application must act on it in this order, then call <see cref="RawNode.Advance"/>:
/// <list type="number">
/// <item><see cref="Messages"/> may be sent at once, in parallel with the disk write: they are
/// the leader's replication traffic and forwarded requests, which depend on nothing this
/// Ready persists (Raft thesis §10.2.1).</item>
/// <item>Persist <see cref="Snapshot"/> (if any), then <see cref="Entries"/>, then
/// <see cref="HardState"/> (if any); fsync when <see cref="MustSync"/>.</item>
/// <item>Only then send <see cref="MessagesAfterPersist"/>: votes, vote answers and append
/// acknowledgements promise that what they speak of is durable.</item>
/// <item>Apply <see cref="Snapshot"/> and then <see cref="CommittedEntries"/> to the state
/// machine, in order. (They may be entries of this same Ready: they are durable by now.)</item>
/// </list>
/// </summary>
public sealed class Ready
{
    internal Ready()
    {
    }

    /// <summary>The leader and role, when they changed since the last Ready; else null.</summary>
    public SoftState? SoftState { get; init; }

    /// <summary>The hard state to persist, when it changed since the last Ready; else null.</summary>
    public HardState? HardState { get; init; }

    /// <summary>Entries to append to stable storage (replacing any held at the same indexes).</summary>
    public ReadOnlyMemory<Entry> Entries { get; init; }

    /// <summary>A snapshot received from the leader to persist and apply; else null.</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>Entries committed and not yet applied, in log order.</summary>
    public ReadOnlyMemory<Entry> CommittedEntries { get; init; }

    /// <summary>Answers to read-index requests: serve each read once the state machine has
    /// applied up to its index.</summary>
    public IReadOnlyList<ReadState> ReadStates { get; init; } = [];

    /// <summary>Messages that may be sent before persisting anything.</summary>
    public IReadOnlyList<Message> Messages { get; init; } = [];

    /// <summary>Messages to send only after this Ready's state is durable.</summary>
    public IReadOnlyList<Message> MessagesAfterPersist { get; init; } = [];

    /// <summary>Whether the write must reach the disk (fsync) before the after-persist
    /// messages leave: true when the term, the vote or the log changed. A commit index change
    /// alone needs no sync, since it can be learnt again.</summary>
    public bool MustSync { get; init; }

    /// <summary>Whether this Ready holds anything to do.</summary>
    public bool IsEmpty => SoftState is null && HardState is null && Entries.IsEmpty && Snapshot is null
        && CommittedEntries.IsEmpty && Messages.Count == 0 && MessagesAfterPersist.Count == 0 && ReadStates.Count == 0;
}
