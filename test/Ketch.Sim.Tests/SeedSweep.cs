using System.Text;

namespace Ketch.Sim.Tests;

/// <summary>Runs a chunk of seeds and fails with every failing seed's report and replay command.</summary>
internal static class SeedSweep
{
    /// <summary>Steps per CI run: enough for several elections, crashes and snapshots per run
    /// while keeping the whole CI sweep around a minute on two cores.</summary>
    public const int CiSteps = 1500;

    public static void AssertNoViolation(int members, int firstSeed, int count, bool harsh = false, int steps = CiSteps, bool membership = false)
    {
        var failures = new List<SimResult>();
        for (var s = firstSeed; s < firstSeed + count; s++)
        {
            var result = Simulation.Run(new SimOptions { Seed = (ulong)s, Members = members, Steps = steps, Harsh = harsh, Membership = membership });
            if (!result.Passed)
            {
                failures.Add(result);
            }
        }
        if (failures.Count == 0)
        {
            return;
        }
        var sb = new StringBuilder();
        sb.AppendLine($"{failures.Count} of {count} seeds failed (members {members}, seeds {firstSeed}..{firstSeed + count - 1}):");
        foreach (var f in failures)
        {
            sb.AppendLine($"  seed {f.Options.Seed}: {f.Violation}: {f.Options.ReplayCommand()}");
        }
        sb.AppendLine().AppendLine("first failure:").AppendLine(failures[0].Report());
        Assert.Fail(sb.ToString());
    }

    /// <summary>(first seed) for chunks of <paramref name="chunk"/> covering [0, <paramref name="seeds"/>).</summary>
    public static TheoryData<int> Chunks(int seeds, int chunk)
    {
        var data = new TheoryData<int>();
        for (var s = 0; s < seeds; s += chunk)
        {
            data.Add(s);
        }
        return data;
    }

    /// <summary>(members, first seed) for chunks of <paramref name="chunk"/> covering
    /// [<paramref name="firstSeed"/>, <paramref name="firstSeed"/> + <paramref name="seeds"/>) on 3 and 5 members.</summary>
    public static TheoryData<int, int> ChunksOnThreeAndFive(int firstSeed, int seeds, int chunk)
    {
        var data = new TheoryData<int, int>();
        foreach (var members in new[] { 3, 5 })
        {
            for (var s = firstSeed; s < firstSeed + seeds; s += chunk)
            {
                data.Add(members, s);
            }
        }
        return data;
    }
}
