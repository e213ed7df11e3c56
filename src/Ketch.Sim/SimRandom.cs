namespace Ketch.Sim;

/// <summary>
/// The simulator's only source of randomness: xoshiro256** (Blackman and Vigna, 2018) seeded
/// through SplitMix64. One instance per run, never shared, so a seed fixes every decision.
/// </summary>
internal sealed class SimRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>Creates a generator whose whole output is fixed by <paramref name="seed"/>.</summary>
    public SimRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A value in [0, <paramref name="bound"/>).</summary>
    public int Next(int bound) => bound <= 0
        ? throw new ArgumentOutOfRangeException(nameof(bound))
        : (int)(NextUInt64() % (ulong)bound);

    /// <summary>A value in [<paramref name="lo"/>, <paramref name="hi"/>].</summary>
    public int Between(int lo, int hi) => lo + Next(hi - lo + 1);

    /// <summary>A value in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A value in [<paramref name="lo"/>, <paramref name="hi"/>).</summary>
    public double Uniform(double lo, double hi) => lo + (NextDouble() * (hi - lo));

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => p > 0 && NextDouble() < p;

    /// <summary>An independent generator for a sub-component (so that adding draws in one
    /// place does not shift every other decision).</summary>
    public SimRandom Fork() => new(NextUInt64());

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
