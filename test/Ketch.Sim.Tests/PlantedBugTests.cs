namespace Ketch.Sim.Tests;

/// <summary>
/// The checkers can fail: bugs planted in the Raft core (through its internal test-only hook)
/// are found within a bounded number of seeds, and the report names the seed and replays.
/// </summary>
public sealed class PlantedBugTests
{
    // Searched once, shared by the tests below (each search is deterministic).
    private static readonly Lazy<SimResult> DoubleVote = new(() =>
        FindFirstViolation(SimPlantedBug.DoubleVote, members: 3, maxSeeds: 200, harsh: false, steps: 800));

    // Figure 8 of the Raft paper needs an old-term entry replicated to a majority on its own
    // and then overwritten: the harsh profile (one entry per message, isolated leaders) makes
    // it happen in about 1% of 3-member runs of 2000 steps; 1000 seeds leave no doubt.
    private static readonly Lazy<SimResult> CommitOld = new(() =>
        FindFirstViolation(SimPlantedBug.CommitOldTermEntries, members: 3, maxSeeds: 1000, harsh: true, steps: 2000));

    [Fact]
    public void Double_vote_is_caught_as_an_election_safety_violation()
    {
        var found = DoubleVote.Value;
        Assert.Equal(ViolationKind.ElectionSafety, found.Violation);
        AssertReportIsReplayable(found);
    }

    [Fact]
    public void Committing_old_term_entries_is_caught_as_a_leader_completeness_or_state_machine_violation()
    {
        var found = CommitOld.Value;
        Assert.Contains(found.Violation, new ViolationKind?[] { ViolationKind.LeaderCompleteness, ViolationKind.StateMachineSafety });
        AssertReportIsReplayable(found);
    }

    [Fact]
    public void An_application_sending_before_persisting_is_caught()
    {
        // Breaking the Ready contract in the harness itself (votes and acknowledgements leave
        // before the write, then a crash inside the Ready loses them) must not go unnoticed:
        // usually the core itself panics (a commit index past its log), sometimes a checker fires.
        var found = FindFirstViolation(SimPlantedBug.SendBeforePersist, members: 3, maxSeeds: 100, harsh: false, steps: 800);
        Assert.NotEqual(ViolationKind.Liveness, found.Violation);
        AssertReportIsReplayable(found);
    }

    [Fact]
    public void Lease_based_reads_under_clock_faults_are_caught_as_stale_reads()
    {
        // The linearizability check can fail: a lease needs bounded clock drift (thesis §6.4.1),
        // which paused members and drifting clocks break, so a deposed leader answers from its
        // lease with an index below what the new leader already committed.
        SimResult? found = null;
        for (var seed = 0; seed < 400 && found is null; seed++)
        {
            foreach (var members in new[] { 3, 5 })
            {
                var r = Simulation.Run(new SimOptions { Seed = (ulong)seed, Members = members, PlantedBug = SimPlantedBug.LeaseReadsWithClockFaults });
                if (!r.Passed)
                {
                    found = r;
                    break;
                }
            }
        }
        Assert.NotNull(found);
        Assert.Equal(ViolationKind.Linearizability, found.Violation);
        AssertReportIsReplayable(found);
        // The same run with safe reads (a heartbeat quorum per read) passes.
        var safe = Simulation.Run(found.Options with { PlantedBug = SimPlantedBug.None });
        Assert.True(safe.Passed, safe.Report());
    }

    [Fact]
    public void A_joint_commit_ignoring_the_outgoing_half_is_caught_as_a_commit_quorum_violation()
    {
        // Joint configurations come from the random membership changes; the first seeds that
        // commit with the incoming majority alone while the outgoing one lags are found within
        // a few dozen seeds (seed 8 of 3 members when written).
        var found = FindFirstViolation(SimPlantedBug.JointCommitIgnoresOutgoing, members: 3, maxSeeds: 150, harsh: false, steps: SeedSweep.CiSteps, membership: true);
        Assert.Equal(ViolationKind.CommitQuorum, found.Violation);
        Assert.Contains("outgoing voters", found.Message, StringComparison.Ordinal);
        Assert.Contains("--membership", found.Report(), StringComparison.Ordinal);
        AssertReportIsReplayable(found);
        var clean = Simulation.Run(found.Options with { PlantedBug = SimPlantedBug.None });
        Assert.True(clean.Passed, clean.Report());
    }

    [Fact]
    public void A_read_index_answered_without_a_heartbeat_quorum_is_caught_as_a_stale_read()
    {
        // A deposed leader that still answers safe reads at once returns an index below what the
        // new leader already committed (seed 53 of 3 members when written, with or without
        // membership changes).
        var found = FindFirstViolation(SimPlantedBug.ReadIndexWithoutQuorum, members: 3, maxSeeds: 300, harsh: false, steps: 1000, membership: true);
        Assert.Equal(ViolationKind.Linearizability, found.Violation);
        AssertReportIsReplayable(found);
        var clean = Simulation.Run(found.Options with { PlantedBug = SimPlantedBug.None });
        Assert.True(clean.Passed, clean.Report());
    }

    [Fact]
    public void The_production_core_passes_the_seeds_that_catch_the_planted_bugs()
    {
        // The same seeds, same settings, no bug: the violations above come from the bug alone.
        var clean = Simulation.Run(CommitOld.Value.Options with { PlantedBug = SimPlantedBug.None });
        Assert.True(clean.Passed, clean.Report());
        clean = Simulation.Run(DoubleVote.Value.Options with { PlantedBug = SimPlantedBug.None });
        Assert.True(clean.Passed, clean.Report());
    }

    private static SimResult FindFirstViolation(SimPlantedBug bug, int members, int maxSeeds, bool harsh, int steps, bool membership = false)
    {
        for (var seed = 0; seed < maxSeeds; seed++)
        {
            var result = Simulation.Run(new SimOptions
            {
                Seed = (ulong)seed,
                Members = members,
                Steps = steps,
                Harsh = harsh,
                PlantedBug = bug,
                Membership = membership,
            });
            if (!result.Passed)
            {
                return result;
            }
        }
        Assert.Fail($"planted bug {bug} not found in {maxSeeds} seeds of {members} members");
        return null!;
    }

    private static void AssertReportIsReplayable(SimResult found)
    {
        var report = found.Report();
        Assert.Contains($"seed:    {found.Options.Seed}", report, StringComparison.Ordinal);
        Assert.Contains($"--seed {found.Options.Seed} --members {found.Options.Members}", report, StringComparison.Ordinal);
        Assert.Contains($"--bug {found.Options.PlantedBug}", report, StringComparison.Ordinal);
        Assert.Contains("profile:", report, StringComparison.Ordinal);
        Assert.Contains("last events:", report, StringComparison.Ordinal);
        // Replaying the seed gives the same violation at the same step with the same trace.
        var again = Simulation.Run(found.Options);
        Assert.Equal(found.Violation, again.Violation);
        Assert.Equal(found.Step, again.Step);
        Assert.Equal(found.Message, again.Message);
        Assert.Equal(found.TraceTail, again.TraceTail);
    }
}
