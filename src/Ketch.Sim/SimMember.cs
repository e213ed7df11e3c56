using Ketch.Raft;
using Ketch.Raft.Storage;

namespace Ketch.Sim;

/// <summary>What the transport owes a member once its current Ready is done: reports about
/// peers it could not reach or snapshots that could not be sent.</summary>
/// <param name="To">The peer.</param>
/// <param name="SnapshotFailed">True for a failed snapshot, false for an unreachable peer.</param>
internal readonly record struct PendingReport(ulong To, bool SnapshotFailed);

/// <summary>A server's life in a cluster whose membership changes.</summary>
internal enum MemberStatus
{
    /// <summary>Not (yet) part of the cluster: never started, its disk empty.</summary>
    Idle,

    /// <summary>Added (or founding): running, or crashed and due to restart.</summary>
    InService,

    /// <summary>Removed from the cluster and stopped for good; its disk stays for the checks.</summary>
    Retired,
}

/// <summary>
/// One simulated server: a durable disk (a <see cref="MemoryStorage"/> written only when a
/// Ready is persisted, so it holds exactly what survived), and, while up, a
/// <see cref="RawNode"/> and an in-memory <see cref="StateMachine"/>.
/// </summary>
internal sealed class SimMember
{
    /// <summary>A founding member of a group of <paramref name="voters"/> (its disk holds the
    /// bootstrap configuration as an index-0 snapshot), or, with null, a server that may join
    /// later: an empty disk, not in service until a configuration change adds it.</summary>
    public SimMember(ulong id, IEnumerable<ulong>? voters)
    {
        Id = id;
        Disk = voters is null ? new MemoryStorage() : MemoryStorage.WithMembers(voters);
        Status = voters is null ? MemberStatus.Idle : MemberStatus.InService;
    }

    /// <summary>Where the server is in its life: not yet added, in service, or removed for good.</summary>
    public MemberStatus Status { get; set; }

    /// <summary>The step at which a removed member stops for good (long.MaxValue: not removed).</summary>
    public long RetireAt { get; set; } = long.MaxValue;

    /// <summary>The member id.</summary>
    public ulong Id { get; }

    /// <summary>The durable state: what survives a crash.</summary>
    public MemoryStorage Disk { get; }

    /// <summary>The running Raft state machine, or null while crashed.</summary>
    public RawNode? Node { get; set; }

    /// <summary>The application state (rebuilt on restart).</summary>
    public StateMachine Sm { get; set; } = new();

    /// <summary>How many times this member started (0 for the first run).</summary>
    public int Incarnation { get; set; }

    /// <summary>Role last observed, to trace changes.</summary>
    public StateType LastState { get; set; }

    /// <summary>Term last observed, to trace changes.</summary>
    public ulong LastTerm { get; set; }

    /// <summary>Reports to deliver after the current Ready's Advance.</summary>
    public List<PendingReport> PendingReports { get; } = [];

    /// <summary>Whether the member is running.</summary>
    public bool IsUp => Node is not null;

    /// <summary>The step until which the member is frozen (paused), if in the future.</summary>
    public long PausedUntil { get; set; }

    /// <summary>Whether the member is running and not frozen at step <paramref name="now"/>.</summary>
    public bool IsActive(long now) => Node is not null && now >= PausedUntil;
}
