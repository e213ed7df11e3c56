using System.Text.Json;
using Grpc.Core;
using Xunit;

namespace Ketch.Bench.Tests;

public class ReportTests
{
    private static RunResult Sample()
    {
        Assert.True(ArgParser.TryParse(["put", "--endpoints", "127.0.0.1:23790", "--clients", "2", "--total", "5"], out var options, out _));
        var a = new ClientStats();
        var b = new ClientStats();
        foreach (var ns in new long[] { 1_000_000, 2_000_000, 3_000_000 })
        {
            a.RecordSuccess(ns);
        }
        b.RecordSuccess(10_000_000);
        b.RecordError(StatusCode.Unavailable, "etcdserver: leader changed");
        b.RecordError(StatusCode.DeadlineExceeded);
        b.RecordError(StatusCode.Unavailable, "etcdserver: too many requests");
        return RunResult.Merge(options!, "put", TimeSpan.FromSeconds(2), [a, b], [new("note", "value")]);
    }

    [Fact]
    public void Merge_sums_clients_and_counts_errors_by_code()
    {
        var r = Sample();
        Assert.Equal(4, r.Ops);
        Assert.Equal(3, r.ErrorCount);
        Assert.Equal(2, r.Errors[StatusCode.Unavailable]);
        Assert.Equal(1, r.Errors[StatusCode.DeadlineExceeded]);
        Assert.Equal(2.0, r.ThroughputOpsPerSecond);
    }

    [Fact]
    public void Json_has_every_documented_field()
    {
        using var doc = JsonDocument.Parse(Report.Json(Sample()));
        var root = doc.RootElement;
        foreach (var field in new[] { "workload", "unit", "endpoints", "conns", "clients", "total_requested", "duration_requested_s",
                     "elapsed_s", "ops", "errors_total", "missing", "errors", "error_details", "client_cpu_s", "server_cpu_s", "throughput_ops_s", "latency_ms", "histogram", "notes" })
        {
            Assert.True(root.TryGetProperty(field, out _), $"missing field {field}");
        }
        Assert.Equal("put", root.GetProperty("workload").GetString());
        Assert.Equal(4, root.GetProperty("ops").GetInt64());
        Assert.Equal(3, root.GetProperty("errors_total").GetInt64());
        Assert.Equal(2, root.GetProperty("errors").GetProperty("Unavailable").GetInt64());
        Assert.Equal("etcdserver: leader changed", root.GetProperty("error_details").GetProperty("Unavailable").GetString());
        Assert.False(root.GetProperty("error_details").TryGetProperty("DeadlineExceeded", out _));
        var latency = root.GetProperty("latency_ms");
        foreach (var field in new[] { "min", "mean", "p50", "p90", "p99", "p999", "max" })
        {
            Assert.True(latency.TryGetProperty(field, out _), $"missing latency_ms.{field}");
        }
        Assert.Equal(1.0, latency.GetProperty("min").GetDouble());
        Assert.Equal(10.0, latency.GetProperty("max").GetDouble());
        Assert.InRange(latency.GetProperty("p50").GetDouble(), 2.0, 2.0 * 129 / 128);
        var buckets = root.GetProperty("histogram").EnumerateArray().ToList();
        Assert.Equal(4, buckets.Sum(b => b.GetProperty("count").GetInt64()));
        Assert.All(buckets, b => Assert.True(b.GetProperty("from_ms").GetDouble() < b.GetProperty("to_ms").GetDouble()));
        Assert.Equal("value", root.GetProperty("notes").GetProperty("note").GetString());
    }

    [Fact]
    public void Text_has_summary_histogram_and_errors()
    {
        var text = Report.Text(Sample());
        Assert.Contains("Summary: put, 2 clients over 1 conns to 127.0.0.1:23790", text, StringComparison.Ordinal);
        Assert.Contains("Throughput:  2.0 put/s", text, StringComparison.Ordinal);
        Assert.Contains("p99.9", text.Replace("p999", "p99.9", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("Latency histogram (ms):", text, StringComparison.Ordinal);
        Assert.Contains("Unavailable (14): 2, first: etcdserver: leader changed", text, StringComparison.Ordinal);
        Assert.Contains("note: value", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Tsv_is_one_line_with_the_header_fields()
    {
        var values = Report.Tsv(Sample()).Split('\t');
        var names = Report.TsvHeader.Split('\t');
        Assert.Equal(names.Length, values.Length);
        var field = names.Zip(values).ToDictionary(p => p.First, p => p.Second);
        Assert.Equal("put", field["workload"]);
        Assert.Equal("4", field["ops"]);
        Assert.Equal("2.0", field["throughput_ops_s"]);
        Assert.Equal("3", field["errors_total"]);
        Assert.Equal("0", field["missing"]);
        Assert.Equal("", field["server_cpu_us_per_op"]);
        Assert.Equal("DeadlineExceeded=1; Unavailable=2 (etcdserver: leader changed)", field["errors_by_code"]);
    }

    [Fact]
    public void Text_histogram_rows_cover_min_to_max_and_every_count()
    {
        var h = new LatencyHistogram();
        for (long v = 100_000; v < 50_000_000; v = v * 11 / 10)
        {
            h.Record(v);
        }
        var rows = Report.TextBuckets(h);
        Assert.True(rows[0].Low <= h.MinNs);
        Assert.True(rows[^1].High > h.MaxNs);
        Assert.Equal(h.Count, rows.Sum(r => r.Count));
        for (var i = 1; i < rows.Count; i++)
        {
            Assert.Equal(rows[i - 1].High, rows[i].Low);
        }
    }
}
