using System.Globalization;
using System.Text;

namespace Ketch.Server.Http;

/// <summary>
/// A Prometheus histogram with fixed upper bounds, lock-free: each observation increments every
/// bucket whose bound it does not exceed, so the counts are cumulative as the text format wants.
/// </summary>
internal sealed class Histogram(double[] bounds, double unitsPerSecond = 1)
{
    /// <summary>Prometheus' exponential buckets: <paramref name="count"/> bounds from
    /// <paramref name="start"/>, each <paramref name="factor"/> times the one before.</summary>
    public static double[] Exponential(double start, double factor, int count) =>
        [.. Enumerable.Range(0, count).Select(i => start * Math.Pow(factor, i))];

    /// <summary>etcd's disk latency buckets: 1 ms doubling, 14 buckets (up to ~8 s).</summary>
    public static double[] DiskBuckets { get; } = Exponential(0.001, 2, 14);

    /// <summary>go-grpc-prometheus' default buckets (Prometheus' DefBuckets), which etcd's gRPC
    /// handling-time histogram uses.</summary>
    public static double[] GrpcBuckets { get; } = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly long[] _counts = new long[bounds.Length];
    private long _total;
    private double _sum;

    /// <summary>Observes a duration, in the histogram's unit (seconds, or milliseconds for etcd's
    /// <c>_milliseconds</c> histograms).</summary>
    public void Observe(TimeSpan duration)
    {
        var value = duration.TotalSeconds * unitsPerSecond;
        for (var i = 0; i < bounds.Length; i++)
        {
            if (value <= bounds[i])
            {
                Interlocked.Increment(ref _counts[i]);
            }
        }
        Interlocked.Increment(ref _total);
        // A double, added by compare-and-swap: lease TTLs reach 9e9 s, which a fixed-point long
        // sum would overflow after a thousand grants.
        var seen = Volatile.Read(ref _sum);
        while (true)
        {
            var was = Interlocked.CompareExchange(ref _sum, seen + value, seen);
            if (was.Equals(seen))
            {
                break;
            }
            seen = was;
        }
    }

    /// <summary>The series of this histogram under <paramref name="name"/>, with
    /// <paramref name="labels"/> (<c>a="x",b="y"</c>, or empty) on each line; no HELP/TYPE lines.</summary>
    public void RenderSeries(StringBuilder sb, string name, string labels)
    {
        var prefix = labels.Length > 0 ? labels + "," : "";
        for (var i = 0; i < bounds.Length; i++)
        {
            sb.Append(name).Append("_bucket{").Append(prefix).Append("le=\"").Append(Num(bounds[i])).Append("\"} ")
                .Append(Interlocked.Read(ref _counts[i])).Append('\n');
        }
        var total = Interlocked.Read(ref _total);
        sb.Append(name).Append("_bucket{").Append(prefix).Append("le=\"+Inf\"} ").Append(total).Append('\n');
        var braces = labels.Length > 0 ? "{" + labels + "}" : "";
        sb.Append(name).Append("_sum").Append(braces).Append(' ').Append(Num(Volatile.Read(ref _sum))).Append('\n');
        sb.Append(name).Append("_count").Append(braces).Append(' ').Append(total).Append('\n');
    }

    /// <summary>HELP, TYPE and the series, for a histogram without labels.</summary>
    public void Render(StringBuilder sb, string name, string help)
    {
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        sb.Append("# TYPE ").Append(name).Append(" histogram\n");
        RenderSeries(sb, name, "");
    }

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
