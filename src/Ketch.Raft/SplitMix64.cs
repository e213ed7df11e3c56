namespace Ketch.Raft;

/// <summary>
/// A tiny deterministic pseudo-random generator (SplitMix64, Steele et al. 2014). The core
/// draws its election timeouts from it so that a seed fixes a whole run.
/// </summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [0, <paramref name="bound"/>).</summary>
    public int NextInt(int bound) => bound <= 0
        ? throw new ArgumentOutOfRangeException(nameof(bound))
        : (int)(Next() % (ulong)bound);
}
