namespace Ketch.Sim.Tests;

/// <summary>Seeds 10000..10199 with the harsh profile (one entry per message, frequent leader
/// isolation and crashes) on 3 and 5 members.</summary>
public sealed class HarshSweepTests
{
    public const int FirstSeed = 10_000;
    public const int Seeds = 200;
    public const int Chunk = 25;

    public static TheoryData<int, int> Chunks() => SeedSweep.ChunksOnThreeAndFive(FirstSeed, Seeds, Chunk);

    [Theory]
    [MemberData(nameof(Chunks))]
    public void No_violation(int members, int firstSeed) => SeedSweep.AssertNoViolation(members, firstSeed, Chunk, harsh: true);
}
