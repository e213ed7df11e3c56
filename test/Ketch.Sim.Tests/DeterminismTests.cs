namespace Ketch.Sim.Tests;

/// <summary>A seed fixes the whole run; and the runs really contain the faults they claim.</summary>
public sealed class DeterminismTests
{
    [Theory]
    [InlineData(3, 11UL)]
    [InlineData(5, 12UL)]
    public void A_seed_replays_the_same_trace(int members, ulong seed)
    {
        static string TraceOf(int members, ulong seed)
        {
            using var w = new StringWriter();
            var result = Simulation.Run(new SimOptions { Seed = seed, Members = members, Steps = 300, Verbose = w });
            Assert.True(result.Passed, result.Report());
            return w.ToString() + result.Stats.Describe();
        }
        var first = TraceOf(members, seed);
        var second = TraceOf(members, seed);
        Assert.Equal(first, second);
        Assert.NotEqual(first, TraceOf(members, seed + 1));
    }

    [Fact]
    public void Sweeps_exercise_every_fault()
    {
        var total = new SimStats();
        var installed = 0;
        var crashesInReady = 0;
        var profiles = new List<FaultProfile>();
        for (var seed = 0UL; seed < 20; seed++)
        {
            var r = Simulation.Run(new SimOptions { Seed = seed, Members = seed % 2 == 0 ? 3 : 5, Steps = SeedSweep.CiSteps });
            Assert.True(r.Passed, r.Report());
            total.MessagesDropped += r.Stats.MessagesDropped;
            total.MessagesDuplicated += r.Stats.MessagesDuplicated;
            total.Crashes += r.Stats.Crashes;
            total.Partitions += r.Stats.Partitions;
            total.Pauses += r.Stats.Pauses;
            total.SnapshotsTaken += r.Stats.SnapshotsTaken;
            total.Acknowledged += r.Stats.Acknowledged;
            installed += r.Stats.SnapshotsInstalled;
            total.ReadsAnswered += r.Stats.ReadsAnswered;
            total.Transfers += r.Stats.Transfers;
            crashesInReady += r.Stats.CrashesInReady;
            profiles.Add(r.Profile);
        }
        Assert.True(total.MessagesDropped > 0);
        Assert.True(total.MessagesDuplicated > 0);
        Assert.True(total.Crashes > 0);
        Assert.True(crashesInReady > 0);
        Assert.True(total.Partitions > 0);
        Assert.True(total.Pauses > 0);
        Assert.True(total.SnapshotsTaken > 0);
        Assert.True(installed > 0, "no member ever needed a snapshot from its leader");
        Assert.True(total.Acknowledged > 0);
        Assert.True(total.ReadsAnswered > 0);
        Assert.True(total.Transfers > 0);
        Assert.Contains(profiles, p => p.DurableStateMachine);
        Assert.Contains(profiles, p => !p.DurableStateMachine);
        Assert.Contains(profiles, p => p.CheckQuorum);
        Assert.Contains(profiles, p => !p.CheckQuorum);
        Assert.Contains(profiles, p => p.PreVote);
        Assert.Contains(profiles, p => !p.PreVote);
        Assert.Contains(profiles, p => p.MaxInflightMsgs <= 4);
        Assert.Contains(profiles, p => p.MaxSizePerMsgBytes <= 200);
    }

    [Fact]
    public void A_cluster_given_no_time_to_converge_is_reported_as_a_liveness_failure()
    {
        var r = Simulation.Run(new SimOptions { Seed = 3, Members = 3, Steps = 200, LivenessBudgetSteps = 0 });
        Assert.Equal(ViolationKind.Liveness, r.Violation);
        Assert.Contains("no convergence", r.Message, StringComparison.Ordinal);
    }
}
