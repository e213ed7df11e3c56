using System.Numerics;

namespace Ketch.Bench;

/// <summary>
/// A log-bucket latency histogram in the style of HdrHistogram: values in nanoseconds, exact
/// below 256 ns, and above that 128 linear sub-buckets per power of two, so any recorded value
/// is reported within 1/128 (0.8 %) of itself. Min, max, count and sum are exact.
/// One instance per client (no locks, no allocation when recording); merge them at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>log2 of the sub-buckets per power of two: 7 gives a relative error of at most 1/128.</summary>
    internal const int SubBucketBits = 7;

    internal const int SubBucketCount = 1 << SubBucketBits;

    /// <summary>Values at or above 2^36 ns (~68.7 s) land in the last bucket; max stays exact.</summary>
    internal const int MaxValueBits = 36;

    internal const long TrackableMaxNs = (1L << MaxValueBits) - 1;

    /// <summary>2S exact slots for [0, 2S), then S slots for each power of two above.</summary>
    internal const int BucketCount = (2 * SubBucketCount) + ((MaxValueBits - SubBucketBits - 1) * SubBucketCount);

    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }

    public long MinNs { get; private set; } = long.MaxValue;

    public long MaxNs { get; private set; }

    /// <summary>Sum of all values; a double so that long runs of slow calls cannot overflow it.</summary>
    public double SumNs { get; private set; }

    public double MeanNs => Count == 0 ? 0 : SumNs / Count;

    public void Record(long valueNs)
    {
        if (valueNs < 0)
        {
            valueNs = 0;
        }
        _counts[IndexOf(valueNs)]++;
        Count++;
        SumNs += valueNs;
        if (valueNs < MinNs)
        {
            MinNs = valueNs;
        }
        if (valueNs > MaxNs)
        {
            MaxNs = valueNs;
        }
    }

    public void Add(LatencyHistogram other)
    {
        if (other.Count == 0)
        {
            return;
        }
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
        Count += other.Count;
        SumNs += other.SumNs;
        MinNs = Math.Min(MinNs, other.MinNs);
        MaxNs = Math.Max(MaxNs, other.MaxNs);
    }

    /// <summary>
    /// The value at percentile <paramref name="percentile"/> (0–100): the highest value
    /// equivalent to the rank-th smallest recording, rank = max(1, ceil(p/100 · count)), clamped
    /// to [min, max]. It is never below the true value and at most 1/128 above it (past ~68.7 s,
    /// the last bucket, it is the max). 0 if empty.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }
        var p = Math.Clamp(percentile, 0, 100);
        var rank = Math.Max(1L, (long)Math.Ceiling(p / 100.0 * Count));
        rank = Math.Min(rank, Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                // The last bucket also holds every value past the trackable maximum: say max.
                return i == _counts.Length - 1 ? MaxNs : Math.Clamp(HighestEquivalent(i), MinNs, MaxNs);
            }
        }
        return MaxNs;
    }

    /// <summary>Calls <paramref name="visit"/> for every non-empty bucket, lowest first.</summary>
    public void ForEachBucket(Action<long, long, long> visit)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] != 0)
            {
                visit(LowestEquivalent(i), HighestEquivalent(i), _counts[i]);
            }
        }
    }

    internal static int IndexOf(long valueNs)
    {
        if (valueNs > TrackableMaxNs)
        {
            valueNs = TrackableMaxNs;
        }
        if (valueNs < 2 * SubBucketCount)
        {
            return (int)valueNs;
        }
        // v in [S·2^k, S·2^(k+1)) with k >= 1, counted in units of 2^k.
        var k = BitOperations.Log2((ulong)valueNs) - SubBucketBits;
        return (2 * SubBucketCount) + ((k - 1) * SubBucketCount) + (int)((valueNs >> k) - SubBucketCount);
    }

    internal static long LowestEquivalent(int index)
    {
        if (index < 2 * SubBucketCount)
        {
            return index;
        }
        var j = index - (2 * SubBucketCount);
        var k = (j / SubBucketCount) + 1;
        long sub = (j % SubBucketCount) + SubBucketCount;
        return sub << k;
    }

    internal static long HighestEquivalent(int index)
    {
        if (index < 2 * SubBucketCount)
        {
            return index;
        }
        var k = ((index - (2 * SubBucketCount)) / SubBucketCount) + 1;
        return LowestEquivalent(index) + (1L << k) - 1;
    }
}
