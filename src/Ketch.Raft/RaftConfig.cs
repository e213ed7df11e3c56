using Ketch.Raft.Storage;

namespace Ketch.Raft;

/// <summary>Everything a <see cref="RawNode"/> needs to start. <see cref="Validate"/> explains
/// what is wrong with a bad configuration.</summary>
public sealed class RaftConfig
{
    /// <summary>This member's id; never 0.</summary>
    public required ulong Id { get; init; }

    /// <summary>The durable log and hard state to start from.</summary>
    public required IRaftStorage Storage { get; init; }

    /// <summary>Ticks without hearing from a leader before campaigning. The actual timeout is
    /// drawn from [ElectionTicks, 2 × ElectionTicks) each time (Raft §5.2).</summary>
    public int ElectionTicks { get; init; } = 10;

    /// <summary>Ticks between leader heartbeats; must be less than <see cref="ElectionTicks"/>.</summary>
    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>The last index the application had applied before a restart (0 for a new member).</summary>
    public ulong Applied { get; init; }

    /// <summary>Most bytes of entries in one append message (at least one entry is always sent).</summary>
    public long MaxSizePerMsgBytes { get; init; } = 1024 * 1024;

    /// <summary>Most bytes of committed entries handed out in one Ready.</summary>
    public long MaxCommittedSizePerReadyBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Most payload bytes the leader holds uncommitted; proposals beyond it are dropped.</summary>
    public long MaxUncommittedEntriesBytes { get; init; } = long.MaxValue;

    /// <summary>Most append messages in flight to one follower in replicate mode.</summary>
    public int MaxInflightMsgs { get; init; } = 256;

    /// <summary>Most bytes of entries in flight to one follower (0 = no limit).</summary>
    public long MaxInflightBytes { get; init; }

    /// <summary>A leader steps down when it has not heard from a quorum within an election
    /// timeout; followers then ignore vote requests while they hear from a leader.</summary>
    public bool CheckQuorum { get; init; }

    /// <summary>Run a pre-vote round before a real election (Raft thesis §9.6), so a
    /// partitioned member cannot disrupt the group by raising its term.</summary>
    public bool PreVote { get; init; }

    /// <summary>How the leader confirms leadership for read-index requests.
    /// <see cref="ReadOnlyOption.LeaseBased"/> requires <see cref="CheckQuorum"/>.</summary>
    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    /// <summary>Followers drop proposals instead of forwarding them to the leader.</summary>
    public bool DisableProposalForwarding { get; init; }

    /// <summary>The seed of the election-timeout randomness; fixes a run for replay.</summary>
    public ulong RandomSeed { get; init; }

    /// <summary>Where log lines go.</summary>
    public IRaftLogger Logger { get; init; } = NullRaftLogger.Instance;

    /// <summary>TEST-ONLY HOOK: a known bug for the simulator's checker tests to plant (see
    /// <see cref="Ketch.Raft.PlantedBug"/>). Internal, default <see cref="PlantedBug.None"/>.</summary>
    internal PlantedBug PlantedBug { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Id == 0)
        {
            throw new ArgumentException("Id must not be 0 (0 means \"none\")", nameof(Id));
        }
        ArgumentNullException.ThrowIfNull(Storage);
        if (HeartbeatTicks <= 0)
        {
            throw new ArgumentException("HeartbeatTicks must be greater than 0", nameof(HeartbeatTicks));
        }
        if (ElectionTicks <= HeartbeatTicks)
        {
            throw new ArgumentException("ElectionTicks must be greater than HeartbeatTicks", nameof(ElectionTicks));
        }
        if (MaxInflightMsgs <= 0)
        {
            throw new ArgumentException("MaxInflightMsgs must be greater than 0", nameof(MaxInflightMsgs));
        }
        if (MaxInflightBytes < 0)
        {
            throw new ArgumentException("MaxInflightBytes must not be negative", nameof(MaxInflightBytes));
        }
        if (MaxInflightBytes > 0 && MaxInflightBytes < MaxSizePerMsgBytes)
        {
            throw new ArgumentException("MaxInflightBytes must be at least MaxSizePerMsgBytes", nameof(MaxInflightBytes));
        }
        if (MaxSizePerMsgBytes <= 0 || MaxCommittedSizePerReadyBytes <= 0 || MaxUncommittedEntriesBytes <= 0)
        {
            throw new ArgumentException("size limits must be greater than 0");
        }
        if (ReadOnlyOption == ReadOnlyOption.LeaseBased && !CheckQuorum)
        {
            throw new ArgumentException("ReadOnlyOption.LeaseBased requires CheckQuorum", nameof(ReadOnlyOption));
        }
        ArgumentNullException.ThrowIfNull(Logger);
    }
}
