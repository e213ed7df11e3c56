using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ketch.Bench;

/// <summary>Writes a <see cref="RunResult"/> for people (text with a histogram) or machines (one JSON object).</summary>
internal static class Report
{
    /// <summary>Percentiles reported, with their JSON names.</summary>
    internal static readonly (double Percentile, string Name)[] Percentiles =
        [(50, "p50"), (90, "p90"), (99, "p99"), (99.9, "p999")];

    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    public static string Text(RunResult r)
    {
        var o = r.Options;
        var sb = new StringBuilder();
        var l = r.Latency;
        sb.Append(o.Endpoints.Count == 0
            ? $"Summary: {o.Workload}\n"
            : string.Create(s_inv, $"Summary: {o.Workload}, {o.Clients} clients over {o.Conns} conns to {string.Join(",", o.Endpoints.Select(e => e.Authority))}\n"));
        sb.Append(s_inv, $"  Elapsed:     {r.Elapsed.TotalSeconds:F4} s\n");
        sb.Append(s_inv, $"  Completed:   {r.Ops} {r.Unit}  (errors {r.ErrorCount}{(r.Missing > 0 ? $", missing {r.Missing}" : "")})\n");
        sb.Append(s_inv, $"  Throughput:  {r.ThroughputOpsPerSecond:F1} {r.Unit}/s\n");
        sb.Append(s_inv, $"  Latency ms:  min {Ms(l.MinNs)}  mean {Ms((long)l.MeanNs)}  ");
        foreach (var (p, name) in Percentiles)
        {
            sb.Append(s_inv, $"{name} {Ms(l.ValueAtPercentile(p))}  ");
        }
        sb.Append(s_inv, $"max {Ms(l.MaxNs)}\n");
        sb.Append(s_inv, $"  CPU:         client {r.ClientCpuUsPerOp:F1} µs/{r.Unit}");
        sb.Append(r.ServerCpuUsPerOp is { } server ? string.Create(s_inv, $", servers {server:F1} µs/{r.Unit}\n") : "\n");
        if (l.Count > 0)
        {
            sb.Append("\nLatency histogram (ms):\n");
            foreach (var (low, high, count) in TextBuckets(l))
            {
                var bar = new string('#', (int)Math.Ceiling(40.0 * count / l.Count));
                sb.Append(s_inv, $"  {Ms(low),10} - {Ms(high),-10} [{count,9}] {bar}\n");
            }
        }
        if (r.Errors.Count > 0)
        {
            sb.Append("\nErrors by gRPC status code:\n");
            foreach (var (code, count) in r.Errors)
            {
                sb.Append(s_inv, $"  {code} ({(int)code}): {count}");
                if (r.ErrorDetails.TryGetValue(code, out var detail))
                {
                    sb.Append(s_inv, $", first: {detail}");
                }
                sb.Append('\n');
            }
        }
        if (r.Notes.Count > 0)
        {
            sb.Append('\n');
            foreach (var (name, value) in r.Notes)
            {
                sb.Append(s_inv, $"  {name}: {value}\n");
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// Display rows: from the power of two at or below min up to max, each row √2 wider than the
    /// last (so about 2 rows per doubling); a row is [low, high) with its count.
    /// </summary>
    internal static List<(long Low, long High, long Count)> TextBuckets(LatencyHistogram h)
    {
        var rows = new List<(long Low, long High, long Count)>();
        if (h.Count == 0)
        {
            return rows;
        }
        var low = h.MinNs <= 1 ? 1.0 : Math.Pow(2, Math.Floor(Math.Log2(h.MinNs)));
        var bounds = new List<long> { h.MinNs <= 1 ? 0 : (long)low };
        while (bounds[^1] <= h.MaxNs)
        {
            low *= Math.Sqrt(2);
            bounds.Add(Math.Max(bounds[^1] + 1, (long)Math.Ceiling(low)));
        }
        var counts = new long[bounds.Count - 1];
        h.ForEachBucket((lowest, _, count) =>
        {
            var v = Math.Clamp(lowest, h.MinNs, h.MaxNs);
            var row = bounds.BinarySearch(v);
            row = row >= 0 ? row : ~row - 1;
            counts[Math.Clamp(row, 0, counts.Length - 1)] += count;
        });
        for (var i = 0; i < counts.Length; i++)
        {
            rows.Add((bounds[i], bounds[i + 1], counts[i]));
        }
        return rows;
    }

    public static string Json(RunResult r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            var o = r.Options;
            var l = r.Latency;
            w.WriteStartObject();
            w.WriteString("workload", o.Workload);
            w.WriteString("unit", r.Unit);
            w.WriteStartArray("endpoints");
            foreach (var e in o.Endpoints)
            {
                w.WriteStringValue(e.ToString());
            }
            w.WriteEndArray();
            w.WriteNumber("conns", o.Conns);
            w.WriteNumber("clients", o.Clients);
            if (o.Total is { } total)
            {
                w.WriteNumber("total_requested", total);
            }
            else
            {
                w.WriteNull("total_requested");
            }
            if (o.Duration is { } d)
            {
                w.WriteNumber("duration_requested_s", d.TotalSeconds);
            }
            else
            {
                w.WriteNull("duration_requested_s");
            }
            w.WriteNumber("elapsed_s", r.Elapsed.TotalSeconds);
            w.WriteNumber("ops", r.Ops);
            w.WriteNumber("errors_total", r.ErrorCount);
            w.WriteNumber("missing", r.Missing);
            w.WriteStartObject("errors");
            foreach (var (code, count) in r.Errors)
            {
                w.WriteNumber(code.ToString(), count);
            }
            w.WriteEndObject();
            w.WriteStartObject("error_details");
            foreach (var (code, detail) in r.ErrorDetails)
            {
                w.WriteString(code.ToString(), detail);
            }
            w.WriteEndObject();
            w.WriteNumber("throughput_ops_s", r.ThroughputOpsPerSecond);
            w.WriteNumber("client_cpu_s", r.ClientCpuSeconds);
            if (r.ServerCpuSeconds is { } serverCpu)
            {
                w.WriteNumber("server_cpu_s", serverCpu);
            }
            else
            {
                w.WriteNull("server_cpu_s");
            }
            w.WriteStartObject("latency_ms");
            w.WriteNumber("min", l.Count == 0 ? 0 : l.MinNs / 1e6);
            w.WriteNumber("mean", l.MeanNs / 1e6);
            foreach (var (p, name) in Percentiles)
            {
                w.WriteNumber(name, l.ValueAtPercentile(p) / 1e6);
            }
            w.WriteNumber("max", l.MaxNs / 1e6);
            w.WriteEndObject();
            w.WriteStartArray("histogram");
            foreach (var (low, high, count) in TextBuckets(l))
            {
                w.WriteStartObject();
                w.WriteNumber("from_ms", low / 1e6);
                w.WriteNumber("to_ms", high / 1e6);
                w.WriteNumber("count", count);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("notes");
            foreach (var (name, value) in r.Notes)
            {
                w.WriteString(name, value);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The fields of <see cref="Tsv"/>, in order.</summary>
    public const string TsvHeader = "workload\tops\telapsed_s\tthroughput_ops_s\tp50_ms\tp90_ms\tp99_ms\tp999_ms\tmax_ms\terrors_total\tmissing\tclient_cpu_us_per_op\tserver_cpu_us_per_op\terrors_by_code";

    /// <summary>One tab-separated line, for shell scripts (bench/compare.sh) that have no JSON parser.</summary>
    public static string Tsv(RunResult r)
    {
        var l = r.Latency;
        return string.Join('\t',
            r.Options.Workload,
            r.Ops.ToString(s_inv),
            r.Elapsed.TotalSeconds.ToString("F4", s_inv),
            r.ThroughputOpsPerSecond.ToString("F1", s_inv),
            (l.ValueAtPercentile(50) / 1e6).ToString("F3", s_inv),
            (l.ValueAtPercentile(90) / 1e6).ToString("F3", s_inv),
            (l.ValueAtPercentile(99) / 1e6).ToString("F3", s_inv),
            (l.ValueAtPercentile(99.9) / 1e6).ToString("F3", s_inv),
            (l.MaxNs / 1e6).ToString("F3", s_inv),
            r.ErrorCount.ToString(s_inv),
            r.Missing.ToString(s_inv),
            r.ClientCpuUsPerOp.ToString("F1", s_inv),
            r.ServerCpuUsPerOp is { } server ? server.ToString("F1", s_inv) : "",
            ErrorsByCode(r));
    }

    /// <summary>"Unavailable=12 (etcdserver: leader changed); DeadlineExceeded=3": errors by code with the first
    /// message of each, on one line without tabs; empty when there were none.</summary>
    private static string ErrorsByCode(RunResult r) => string.Join("; ", r.Errors.Select(e =>
        r.ErrorDetails.TryGetValue(e.Key, out var d)
            ? string.Create(s_inv, $"{e.Key}={e.Value} ({d.Replace('\t', ' ').Replace('\n', ' ')})")
            : string.Create(s_inv, $"{e.Key}={e.Value}")));

    private static string Ms(long ns) => (ns / 1e6).ToString(ns < 10_000_000 ? "F3" : "F1", s_inv);
}
