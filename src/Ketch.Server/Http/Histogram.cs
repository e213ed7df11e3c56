using System.Globalization;
using System.Text;

namespace Ketch.Server.Http;

/// <summary>
/// A Prometheus histogram with fixed upper bounds, lock-free: each observation increments every
/// bucket whose bound it does not exceed, so the counts are cumulative as the text format wants.
/// </summary>
internal sealed class Histogram(double[] bounds)
{
    /// <summary>etcd's disk latency buckets: 1 ms doubling, 14 buckets (up to ~8 s).</summary>
    public static double[] DiskBuckets { get; } = [.. Enumerable.Range(0, 14).Select(i => 0.001 * Math.Pow(2, i))];

    /// <summary>go-grpc-prometheus' default buckets (Prometheus' DefBuckets), which etcd's gRPC
    /// handling-time histogram uses.</summary>
    public static double[] GrpcBuckets { get; } = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly long[] _counts = new long[bounds.Length];
    private long _total;
    private long _sumMicros;

    public void Observe(TimeSpan duration)
    {
        var seconds = duration.TotalSeconds;
        for (var i = 0; i < bounds.Length; i++)
        {
            if (seconds <= bounds[i])
            {
                Interlocked.Increment(ref _counts[i]);
            }
        }
        Interlocked.Increment(ref _total);
        Interlocked.Add(ref _sumMicros, (long)(seconds * 1_000_000));
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
        sb.Append(name).Append("_sum").Append(braces).Append(' ').Append(Num(Interlocked.Read(ref _sumMicros) / 1e6)).Append('\n');
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
