using System.Globalization;

namespace Ketch.Sim;

/// <summary>A bug planted on purpose in the Raft core (through an internal test-only hook in
/// <see cref="Ketch.Raft.RaftConfig"/>), to show that the checkers catch it.</summary>
internal enum SimPlantedBug
{
    /// <summary>The production algorithm.</summary>
    None,

    /// <summary>The leader commits entries of earlier terms by counting replicas (the bug of
    /// Raft §5.4.2 / figure 8).</summary>
    CommitOldTermEntries,

    /// <summary>A member grants its vote even after voting for another candidate in the term.</summary>
    DoubleVote,

    /// <summary>Not in the core but in the application: the simulator sends
    /// <see cref="Ketch.Raft.Ready.MessagesAfterPersist"/> before persisting (breaking the Ready
    /// contract), so a crash before the write loses votes and acknowledged entries.</summary>
    SendBeforePersist,

    /// <summary>Not a bug in the code but in the setting: lease-based reads
    /// (<see cref="Ketch.Raft.ReadOnlyOption.LeaseBased"/>, check-quorum forced on) under this
    /// simulator's clock faults (drifting tick rates, paused members), which break the bounded
    /// clock drift a lease relies on (thesis §6.4.1), so a deposed leader may answer stale reads.</summary>
    LeaseReadsWithClockFaults,

    /// <summary>In a joint configuration the leader commits with a majority of the incoming
    /// voters alone (core hook); needs <see cref="SimOptions.Membership"/> to get joint
    /// configurations. Caught as <see cref="ViolationKind.CommitQuorum"/>.</summary>
    JointCommitIgnoresOutgoing,

    /// <summary>A safe read index is answered without the heartbeat quorum that confirms the
    /// leadership (core hook): a deposed leader answers stale reads.</summary>
    ReadIndexWithoutQuorum,
}

/// <summary>What one run simulates. The seed fixes everything else.</summary>
internal sealed record SimOptions
{
    /// <summary>Fixes the fault profile, the Raft settings, every fault and every delay.</summary>
    public ulong Seed { get; init; }

    /// <summary>Cluster size (3 or 5; any size from 1 works).</summary>
    public int Members { get; init; } = 3;

    /// <summary>Steps with faults on; then the liveness phase.</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>Steps the cluster gets, once healed, to converge.</summary>
    public int LivenessBudgetSteps { get; init; } = 3000;

    /// <summary>Every how many steps the pairwise log matching check runs (the incremental
    /// checks run on every append).</summary>
    public int FullCheckEverySteps { get; init; } = 10;

    /// <summary>A bug to plant in the core.</summary>
    public SimPlantedBug PlantedBug { get; init; }

    /// <summary>Draw the profile with <see cref="FaultProfile.Harsh"/> instead of
    /// <see cref="FaultProfile.FromSeed"/>.</summary>
    public bool Harsh { get; init; }

    /// <summary>Random membership changes during the faults: add voters and learners, promote,
    /// demote, remove, joint changes, within a pool of <see cref="Members"/> + 4 member ids.</summary>
    public bool Membership { get; init; }

    /// <summary>Overrides the profile drawn from the seed.</summary>
    public FaultProfile? Profile { get; init; }

    /// <summary>How many events a failure report shows.</summary>
    public int TraceEvents { get; init; } = 200;

    /// <summary>Where to echo every event (replay mode), or null.</summary>
    public TextWriter? Verbose { get; init; }

    /// <summary>The command that replays this run with its trace.</summary>
    public string ReplayCommand()
    {
        var c = CultureInfo.InvariantCulture;
        var cmd = string.Create(c, $"dotnet run --project src/Ketch.Sim -c Release -- --seed {Seed} --members {Members} --steps {Steps}");
        if (Harsh)
        {
            cmd += " --harsh";
        }
        if (Membership)
        {
            cmd += " --membership";
        }
        if (PlantedBug != SimPlantedBug.None)
        {
            cmd += " --bug " + PlantedBug;
        }
        return cmd + " --verbose";
    }
}
