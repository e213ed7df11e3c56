namespace Ketch.Sim.Tests;

/// <summary>Seeds 0..499 on 5 members, every fault on (profile drawn from each seed).</summary>
public sealed class FiveMemberSweepTests
{
    public const int Seeds = 500;
    public const int Chunk = 25;

    public static TheoryData<int> Chunks => SeedSweep.Chunks(Seeds, Chunk);

    [Theory]
    [MemberData(nameof(Chunks))]
    public void No_violation(int firstSeed) => SeedSweep.AssertNoViolation(5, firstSeed, Chunk);
}
