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
    public void A_membership_seed_replays_the_same_trace()
    {
        static string TraceOf(ulong seed)
        {
            using var w = new StringWriter();
            var result = Simulation.Run(new SimOptions { Seed = seed, Members = 3, Steps = 400, Membership = true, Verbose = w });
            Assert.True(result.Passed, result.Report());
            return w.ToString() + result.Stats.Describe();
        }
        var first = TraceOf(2);
        Assert.Equal(first, TraceOf(2));
        Assert.Contains("conf change", first, StringComparison.Ordinal);
    }

    [Fact]
    public void Membership_sweeps_exercise_every_kind_of_change()
    {
        var total = new SimStats();
        var profiles = new List<FaultProfile>();
        using var traces = new ConfChangeLines();
        for (var seed = 0UL; seed < 20; seed++)
        {
            var r = Simulation.Run(new SimOptions { Seed = seed, Members = seed % 2 == 0 ? 3 : 5, Steps = SeedSweep.CiSteps, Membership = true, TraceEvents = 0, Verbose = seed < 6 ? traces : null });
            Assert.True(r.Passed, r.Report());
            total.ConfChangesProposed += r.Stats.ConfChangesProposed;
            total.ConfChangesApplied += r.Stats.ConfChangesApplied;
            total.JointConfigs += r.Stats.JointConfigs;
            total.MembersAdded += r.Stats.MembersAdded;
            total.MembersRemoved += r.Stats.MembersRemoved;
            total.MembersRetired += r.Stats.MembersRetired;
            total.NewcomerSnapshots += r.Stats.NewcomerSnapshots;
            total.ReadsAnswered += r.Stats.ReadsAnswered;
            total.Transfers += r.Stats.Transfers;
            total.Crashes += r.Stats.Crashes;
            profiles.Add(r.Profile);
        }
        Assert.True(total.ConfChangesApplied > 20, total.Describe());
        Assert.True(total.JointConfigs > 0, total.Describe());
        Assert.True(total.MembersAdded > 0, total.Describe());
        Assert.True(total.NewcomerSnapshots > 0, "no newcomer learned the configuration from a snapshot");
        Assert.True(total.MembersRemoved > 0, total.Describe());
        Assert.True(total.MembersRetired > 0, total.Describe());
        Assert.True(total.ReadsAnswered > 0);
        Assert.True(total.Transfers > 0);
        Assert.True(total.Crashes > 0);
        Assert.All(profiles, p => Assert.True(p.ConfChangeProbability > 0));
        // Every kind of change and transition shows up in the traces.
        var text = traces.ToString();
        Assert.NotEmpty(text);
        foreach (var needle in new[] { "(JointExplicit)", "(JointImplicit)", "AutoLeave", "leave joint", "(v1)", "applied conf change l", "applied conf change r", "applied conf change v" })
        {
            Assert.Contains(needle, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Runs_without_membership_changes_draw_no_membership_randomness()
    {
        var r = Simulation.Run(new SimOptions { Seed = 5, Members = 3, Steps = 300 });
        Assert.True(r.Passed, r.Report());
        Assert.Equal(0, r.Stats.ConfChangesProposed);
        Assert.Equal(0.0, r.Profile.ConfChangeProbability);
    }

    [Fact]
    public void A_cluster_given_no_time_to_converge_is_reported_as_a_liveness_failure()
    {
        var r = Simulation.Run(new SimOptions { Seed = 3, Members = 3, Steps = 200, LivenessBudgetSteps = 0 });
        Assert.Equal(ViolationKind.Liveness, r.Violation);
        Assert.Contains("no convergence", r.Message, StringComparison.Ordinal);
    }

    /// <summary>Keeps only the trace lines about configuration changes.</summary>
    private sealed class ConfChangeLines : StringWriter
    {
        public ConfChangeLines()
            : base(System.Globalization.CultureInfo.InvariantCulture)
        {
        }

        public override void WriteLine(string? value)
        {
            if (value is not null && value.Contains("conf change", StringComparison.Ordinal))
            {
                base.WriteLine(value);
            }
        }
    }
}
