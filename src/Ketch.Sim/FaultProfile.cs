using System.Globalization;

namespace Ketch.Sim;

/// <summary>
/// How hostile one run is: the per-step probability of each fault and the Raft settings under
/// test. Drawn from the seed (<see cref="FromSeed"/>) so that seeds explore different mixes:
/// a run with heavy loss and no crashes, one with many crashes and tiny messages, and so on.
/// </summary>
internal sealed record FaultProfile
{
    /// <summary>A message is lost (silently, like a UDP packet or a cut TCP stream).</summary>
    public double DropProbability { get; init; }

    /// <summary>A message is delivered twice (each copy with its own delay).</summary>
    public double DuplicateProbability { get; init; }

    /// <summary>A message gets a small random extra delay, so it may overtake or be overtaken.</summary>
    public double ReorderProbability { get; init; }

    /// <summary>A message is held back for a long time (several election timeouts at most).</summary>
    public double DelayProbability { get; init; }

    /// <summary>The longest delay of <see cref="DelayProbability"/>, in steps.</summary>
    public int MaxDelaySteps { get; init; } = 30;

    /// <summary>Per step: a new partition (random split, isolated leader or one-way cut) starts.</summary>
    public double PartitionProbability { get; init; }

    /// <summary>Per step: every partition heals.</summary>
    public double HealProbability { get; init; }

    /// <summary>Per step: one random running member crashes between steps.</summary>
    public double CrashProbability { get; init; }

    /// <summary>Per Ready: the member crashes while handling it (before persisting, after
    /// persisting, or after applying but before Advance).</summary>
    public double CrashInReadyProbability { get; init; }

    /// <summary>Per step: one random running member freezes (like SIGSTOP or a long GC pause)
    /// for up to <see cref="MaxPauseSteps"/> steps: no ticks, no Ready handling; messages to it
    /// wait in the network until it resumes.</summary>
    public double PauseProbability { get; init; }

    /// <summary>The longest pause, in steps.</summary>
    public int MaxPauseSteps { get; init; } = 40;

    /// <summary>Per step and crashed member: it restarts from its disk.</summary>
    public double RestartProbability { get; init; }

    /// <summary>Per step and member: it snapshots its state machine and compacts its log.</summary>
    public double SnapshotProbability { get; init; }

    /// <summary>Entries kept below the snapshot index when compacting.</summary>
    public int SnapshotKeepEntries { get; init; }

    /// <summary>Per step: a client proposes a new payload to a random member.</summary>
    public double ProposeProbability { get; init; } = 0.5;

    /// <summary>Per step: a client asks a random member for a read index (linearizable read).</summary>
    public double ReadProbability { get; init; }

    /// <summary>Per step: a random member asks for leadership to move to a random member
    /// (thesis §3.10; the transferee may be down or cut off).</summary>
    public double TransferProbability { get; init; }

    /// <summary>Per step: a membership change is proposed (only with
    /// <see cref="SimOptions.Membership"/>; drawn then from its own stream, else 0).</summary>
    public double ConfChangeProbability { get; init; }

    /// <summary>Per step and member: its clock ticks. Each member draws its own rate from
    /// [this, 1] so clocks drift apart; 1 means every member ticks every step.</summary>
    public double TickProbability { get; init; } = 1.0;

    /// <summary>The application state survives crashes with its applied index (like a backend
    /// that commits its consistent index with the data); a restart then passes that index as
    /// <see cref="Ketch.Raft.RaftConfig.Applied"/>. Otherwise it is rebuilt from the snapshot.</summary>
    public bool DurableStateMachine { get; init; }

    /// <summary>Raft: <see cref="Ketch.Raft.RaftConfig.CheckQuorum"/>.</summary>
    public bool CheckQuorum { get; init; }

    /// <summary>Raft: <see cref="Ketch.Raft.RaftConfig.PreVote"/>.</summary>
    public bool PreVote { get; init; }

    /// <summary>Raft: <see cref="Ketch.Raft.RaftConfig.MaxInflightMsgs"/>.</summary>
    public int MaxInflightMsgs { get; init; } = 256;

    /// <summary>Raft: <see cref="Ketch.Raft.RaftConfig.MaxSizePerMsgBytes"/>.</summary>
    public long MaxSizePerMsgBytes { get; init; } = 1024 * 1024;

    /// <summary>Raft: <see cref="Ketch.Raft.RaftConfig.MaxCommittedSizePerReadyBytes"/>.</summary>
    public long MaxCommittedSizePerReadyBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Raft: <see cref="Ketch.Raft.RaftConfig.MaxUncommittedEntriesBytes"/>.</summary>
    public long MaxUncommittedEntriesBytes { get; init; } = long.MaxValue;

    /// <summary>Raft: <see cref="Ketch.Raft.RaftConfig.ElectionTicks"/>.</summary>
    public int ElectionTicks { get; init; } = 10;

    /// <summary>Raft: <see cref="Ketch.Raft.RaftConfig.HeartbeatTicks"/>.</summary>
    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>A calm network: no loss, no duplicates, no partitions, no crashes. The
    /// liveness phase at the end of every run uses it (with the run's Raft settings).</summary>
    public FaultProfile Calm() => this with
    {
        DropProbability = 0,
        DuplicateProbability = 0,
        ReorderProbability = 0,
        DelayProbability = 0,
        PartitionProbability = 0,
        HealProbability = 0,
        CrashProbability = 0,
        CrashInReadyProbability = 0,
        PauseProbability = 0,
        RestartProbability = 0,
        SnapshotProbability = 0.02,
        ProposeProbability = 0,
        ReadProbability = 0,
        TransferProbability = 0,
        ConfChangeProbability = 0,
        TickProbability = 1.0,
    };

    /// <summary>Draws a profile with every fault on, at intensities and Raft settings chosen
    /// by <paramref name="r"/>.</summary>
    public static FaultProfile FromSeed(SimRandom r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var smallMsgs = r.Chance(0.4);
        var maxSize = smallMsgs ? (r.Chance(0.5) ? 1 : r.Between(40, 200)) : 1024 * 1024;
        var inflightLimited = r.Chance(0.4);
        return new FaultProfile
        {
            DropProbability = r.Uniform(0.005, 0.15),
            DuplicateProbability = r.Uniform(0.005, 0.08),
            ReorderProbability = r.Uniform(0.02, 0.3),
            DelayProbability = r.Uniform(0.002, 0.04),
            MaxDelaySteps = r.Between(5, 40),
            PartitionProbability = r.Uniform(0.002, 0.025),
            HealProbability = r.Uniform(0.01, 0.1),
            CrashProbability = r.Uniform(0.001, 0.012),
            CrashInReadyProbability = r.Uniform(0.0005, 0.006),
            PauseProbability = r.Uniform(0.001, 0.01),
            MaxPauseSteps = r.Between(5, 60),
            RestartProbability = r.Uniform(0.03, 0.2),
            SnapshotProbability = r.Uniform(0.005, 0.08),
            SnapshotKeepEntries = r.Chance(0.5) ? 0 : r.Between(1, 10),
            ProposeProbability = r.Uniform(0.2, 0.9),
            ReadProbability = r.Uniform(0.02, 0.3),
            TransferProbability = r.Uniform(0.001, 0.02),
            TickProbability = r.Uniform(0.75, 1.0),
            CheckQuorum = r.Chance(0.5),
            PreVote = r.Chance(0.5),
            DurableStateMachine = r.Chance(0.5),
            MaxInflightMsgs = inflightLimited ? r.Between(1, 4) : 256,
            MaxSizePerMsgBytes = maxSize,
            MaxCommittedSizePerReadyBytes = r.Chance(0.3) ? r.Between(1, 300) : 64L * 1024 * 1024,
            MaxUncommittedEntriesBytes = r.Chance(0.2) ? r.Between(50, 400) : long.MaxValue,
            ElectionTicks = 10,
            HeartbeatTicks = 1,
        };
    }

    /// <summary>
    /// A harsher profile: one entry per append message and one message in flight, frequent
    /// leader isolation, crashes and loss, many proposals, check-quorum off (so isolated
    /// leaders keep accepting proposals and grow divergent tails). It makes the figure 8
    /// situation of Raft §5.4.2 (an old-term entry replicated to a majority, then overwritten)
    /// common, so a core that commits old-term entries by counting replicas is caught.
    /// </summary>
    public static FaultProfile Harsh(SimRandom r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return FromSeed(r) with
        {
            DropProbability = r.Uniform(0.02, 0.2),
            PartitionProbability = r.Uniform(0.02, 0.06),
            HealProbability = r.Uniform(0.03, 0.15),
            CrashProbability = r.Uniform(0.01, 0.03),
            CrashInReadyProbability = r.Uniform(0.002, 0.01),
            PauseProbability = r.Uniform(0.005, 0.03),
            RestartProbability = r.Uniform(0.05, 0.3),
            ProposeProbability = r.Uniform(0.6, 1.0),
            CheckQuorum = false,
            MaxInflightMsgs = 1,
            MaxSizePerMsgBytes = 1,
        };
    }

    /// <summary>A one-line description for failure reports.</summary>
    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        return string.Create(c,
            $"drop={DropProbability:F3} dup={DuplicateProbability:F3} reorder={ReorderProbability:F3} " +
            $"delay={DelayProbability:F3}(max {MaxDelaySteps}) partition={PartitionProbability:F3} heal={HealProbability:F3} " +
            $"crash={CrashProbability:F4} crashInReady={CrashInReadyProbability:F4} pause={PauseProbability:F4}(max {MaxPauseSteps}) restart={RestartProbability:F3} " +
            $"snapshot={SnapshotProbability:F3}(keep {SnapshotKeepEntries}) propose={ProposeProbability:F2} read={ReadProbability:F2} transfer={TransferProbability:F3} tick={TickProbability:F2} " +
            $"durableSm={DurableStateMachine} checkQuorum={CheckQuorum} preVote={PreVote} maxInflight={MaxInflightMsgs} maxMsgBytes={MaxSizePerMsgBytes} " +
            $"maxReadyBytes={MaxCommittedSizePerReadyBytes} maxUncommittedBytes={(MaxUncommittedEntriesBytes == long.MaxValue ? "none" : MaxUncommittedEntriesBytes.ToString(c))} " +
            $"electionTicks={ElectionTicks} heartbeatTicks={HeartbeatTicks}") +
            (ConfChangeProbability > 0 ? string.Create(c, $" confChange={ConfChangeProbability:F3}") : "");
    }
}
