using CsCheck;

namespace Ketch.Raft.Tests.Quorum;

/// <summary>
/// Runs a CsCheck generator from a fixed seed, so property tests are deterministic: the same
/// cases every run, each failure reported with the case that caused it.
/// </summary>
internal static class PropertyRuns
{
    public static void ForAll<T>(Gen<T> gen, int cases, Action<T> property, Func<T, string> describe)
    {
        var pcg = new PCG(1, 0x4B657463);
        for (var i = 0; i < cases; i++)
        {
            var value = gen.Generate(pcg, null!, out _);
            try
            {
                property(value);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"property failed on case {i}: {describe(value)}\n{e.Message}", e);
            }
        }
    }
}
