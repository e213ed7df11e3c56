namespace Ketch.Sim.Tests;

/// <summary>Seeds 20000..20299 on 3 and 5 initial members with random membership changes (add
/// voters and learners, promote, demote, remove, joint changes) during every fault.</summary>
public sealed class MembershipSweepTests
{
    public const int FirstSeed = 20_000;
    public const int Seeds = 300;
    public const int Chunk = 25;

    public static TheoryData<int, int> Chunks() => SeedSweep.ChunksOnThreeAndFive(FirstSeed, Seeds, Chunk);

    [Theory]
    [MemberData(nameof(Chunks))]
    public void No_violation(int members, int firstSeed) => SeedSweep.AssertNoViolation(members, firstSeed, Chunk, membership: true);

    /// <summary>Runs that found core bugs when they were written (each failed Liveness before the
    /// fix named): kept as regression runs.</summary>
    [Theory]
    [InlineData(2505UL, 5, 1000)] // auto-leave dropped by a leadership transfer, never retried
    [InlineData(819UL, 3, 1000)] // a newcomer at a higher term ignored the leader (no check-quorum, no pre-vote)
    [InlineData(10142UL, 5, 3000)] // a lower-term candidate never learned the stale voter's term
    [InlineData(1346UL, 3, 1000)] // (harness) a stale demotion re-added a removed member
    public void Runs_that_found_bugs_pass(ulong seed, int members, int steps)
    {
        var r = Simulation.Run(new SimOptions { Seed = seed, Members = members, Steps = steps, Membership = true });
        Assert.True(r.Passed, r.Report());
    }
}
