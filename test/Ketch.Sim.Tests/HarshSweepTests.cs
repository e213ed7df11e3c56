namespace Ketch.Sim.Tests;

/// <summary>Seeds 10000..10199 with the harsh profile (one entry per message, frequent leader
/// isolation and crashes) on 3 and 5 members.</summary>
public sealed class HarshSweepTests
{
    public const int FirstSeed = 10_000;
    public const int Seeds = 200;
    public const int Chunk = 25;

    public static TheoryData<int, int> Chunks()
    {
        var data = new TheoryData<int, int>();
        foreach (var members in new[] { 3, 5 })
        {
            for (var s = FirstSeed; s < FirstSeed + Seeds; s += Chunk)
            {
                data.Add(members, s);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Chunks))]
    public void No_violation(int members, int firstSeed) => SeedSweep.AssertNoViolation(members, firstSeed, Chunk, harsh: true);
}
