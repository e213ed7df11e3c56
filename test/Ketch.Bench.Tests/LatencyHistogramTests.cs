using CsCheck;
using Xunit;

namespace Ketch.Bench.Tests;

public class LatencyHistogramTests
{
    private static readonly double[] s_percentiles = [0, 1, 25, 50, 75, 90, 99, 99.9, 99.99, 100];

    // Latencies from 0 ns to past the trackable maximum, skewed towards small values as real ones are.
    private static readonly Gen<long> s_value = Gen.Frequency(
        (4, Gen.Long[0, 10_000_000]),
        (2, Gen.Long[0, 1_000]),
        (1, Gen.Long[0, LatencyHistogram.TrackableMaxNs + 1_000_000]));

    [Fact]
    public void Percentiles_match_a_sorted_array_within_the_bucket_width() =>
        Gen.Select(s_value.Array[1, 400], Gen.Double[0, 100]).Sample((values, extra) =>
        {
            var h = new LatencyHistogram();
            foreach (var v in values)
            {
                h.Record(v);
            }
            var sorted = values.Order().ToArray();
            Assert.Equal(sorted.Length, h.Count);
            Assert.Equal(sorted[0], h.MinNs);
            Assert.Equal(sorted[^1], h.MaxNs);
            foreach (var p in s_percentiles.Append(extra))
            {
                var rank = Math.Max(1, (long)Math.Ceiling(p / 100 * sorted.Length));
                var expected = sorted[rank - 1];
                var actual = h.ValueAtPercentile(p);
                // Never below the true value, never past the top of its bucket (1/128 wide), never past max.
                Assert.True(actual >= expected, $"p{p}: {actual} < reference {expected}");
                // Past the trackable maximum everything shares the last bucket, reported as max.
                var index = LatencyHistogram.IndexOf(expected);
                var top = index == LatencyHistogram.BucketCount - 1 ? sorted[^1] : LatencyHistogram.HighestEquivalent(index);
                Assert.True(actual <= Math.Min(top, sorted[^1]), $"p{p}: {actual} > bucket top {top} of reference {expected}");
            }
        });

    [Fact]
    public void Every_value_lies_in_its_bucket_and_buckets_are_at_most_one_128th_wide() =>
        Gen.Long[0, LatencyHistogram.TrackableMaxNs].Sample(v =>
        {
            var i = LatencyHistogram.IndexOf(v);
            var low = LatencyHistogram.LowestEquivalent(i);
            var high = LatencyHistogram.HighestEquivalent(i);
            Assert.InRange(i, 0, LatencyHistogram.BucketCount - 1);
            Assert.InRange(v, low, high);
            Assert.True(high - low <= Math.Max(0, low / LatencyHistogram.SubBucketCount), $"bucket [{low}, {high}] too wide");
        });

    [Fact]
    public void Buckets_tile_the_range_without_gaps()
    {
        for (var i = 1; i < LatencyHistogram.BucketCount; i++)
        {
            Assert.Equal(LatencyHistogram.HighestEquivalent(i - 1) + 1, LatencyHistogram.LowestEquivalent(i));
        }
        Assert.Equal(LatencyHistogram.TrackableMaxNs, LatencyHistogram.HighestEquivalent(LatencyHistogram.BucketCount - 1));
    }

    [Fact]
    public void Merging_equals_recording_everything_in_one() =>
        Gen.Select(s_value.Array[0, 100], s_value.Array[0, 100]).Sample((a, b) =>
        {
            var ha = new LatencyHistogram();
            var hb = new LatencyHistogram();
            var all = new LatencyHistogram();
            foreach (var v in a)
            {
                ha.Record(v);
                all.Record(v);
            }
            foreach (var v in b)
            {
                hb.Record(v);
                all.Record(v);
            }
            ha.Add(hb);
            Assert.Equal(all.Count, ha.Count);
            Assert.Equal(all.SumNs, ha.SumNs);
            foreach (var p in s_percentiles)
            {
                Assert.Equal(all.ValueAtPercentile(p), ha.ValueAtPercentile(p));
            }
        });

    [Fact]
    public void Empty_histogram_reports_zero()
    {
        var h = new LatencyHistogram();
        Assert.Equal(0, h.ValueAtPercentile(99));
        Assert.Equal(0, h.MeanNs);
    }
}
