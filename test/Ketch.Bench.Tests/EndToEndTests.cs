using System.Diagnostics;
using System.Text.Json;
using Ketch.Bench.Workloads;
using Xunit;

namespace Ketch.Bench.Tests;

/// <summary>Short runs of the real workloads against a real etcd started for this class.</summary>
public class EndToEndTests(EtcdProcess etcd) : IClassFixture<EtcdProcess>
{
    private async Task<RunResult> RunAsync(IWorkload workload, params string[] args)
    {
        Assert.True(ArgParser.TryParse([.. args, "--endpoints", etcd.ClientUrl.ToString(), "--no-progress"], out var options, out var error), error);
        using var pool = new ChannelPool(options!.Endpoints, options.Conns);
        return await workload.RunAsync(new BenchContext(options, pool, CancellationToken.None));
    }

    [Fact]
    public async Task Put_runs_every_operation_without_errors()
    {
        var r = await RunAsync(new PutWorkload(), "put", "--total", "300", "--clients", "8", "--conns", "2", "--key-space", "100", "--val-size", "64",
            "--warmup", "100ms", "--cpu-pids", etcd.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(300, r.Ops);
        Assert.Empty(r.Errors);
        Assert.NotNull(r.ServerCpuSeconds);
        Assert.True(r.ClientCpuSeconds > 0);
        Assert.True(r.Latency.MinNs > 0);
    }

    [Fact]
    public async Task Linearizable_and_serializable_ranges_run_without_errors()
    {
        foreach (var consistency in new[] { "l", "s" })
        {
            var r = await RunAsync(new RangeWorkload(), "range", "--total", "300", "--clients", "4", "--consistency", consistency);
            Assert.Equal(300, r.Ops);
            Assert.Empty(r.Errors);
        }
        var prefix = await RunAsync(new RangeWorkload(), "range", "--total", "50", "--key", "0000", "--prefix");
        Assert.Equal(50, prefix.Ops);
        Assert.Empty(prefix.Errors);
    }

    [Fact]
    public async Task Watch_latency_delivers_every_event()
    {
        var r = await RunAsync(new WatchLatencyWorkload(), "watch-latency", "--watchers", "20", "--streams", "4", "--total", "20", "--rate", "1000");
        Assert.Equal(400, r.Ops);
        Assert.Empty(r.Errors);
        Assert.Contains(r.Notes, n => n.Key == "events missing" && n.Value == "0");
    }

    [Fact]
    public async Task Txn_and_lease_workloads_run_without_errors()
    {
        var txn = await RunAsync(new TxnPutWorkload(), "txn-put", "--total", "100", "--clients", "4", "--txn-ops", "3", "--key-space", "50");
        Assert.Equal((100L, 0L), (txn.Ops, txn.ErrorCount));
        var mixed = await RunAsync(new TxnMixedWorkload(), "txn-mixed", "--total", "200", "--clients", "4", "--key-space", "50");
        Assert.Equal((200L, 0L), (mixed.Ops, mixed.ErrorCount));
        var reads = long.Parse(mixed.Notes.Single(n => n.Key == "reads").Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(reads, 100, 199);
        var lease = await RunAsync(new LeaseKeepAliveWorkload(), "lease-keepalive", "--total", "100", "--clients", "4");
        Assert.Equal((100L, 0L), (lease.Ops, lease.ErrorCount));
    }

    [Fact]
    public async Task Watch_delivers_every_event_of_every_putter()
    {
        var r = await RunAsync(new WatchWorkload(), "watch", "--watchers", "30", "--streams", "3", "--key-space", "10", "--clients", "3", "--total", "60");
        // 3 watchers on each of 10 keys: every put fans out to 3.
        Assert.Equal(180, r.Ops);
        Assert.Equal(0, r.Missing);
        Assert.Empty(r.Errors);
    }

    [Fact]
    public async Task The_executable_prints_json()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "ketch-bench.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { dll, "put", "--endpoints", etcd.ClientUrl.ToString(), "--total", "100", "--clients", "2", "--json" })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(process.ExitCode == 0, await stderr);
        using var doc = JsonDocument.Parse(await stdout);
        Assert.Equal(100, doc.RootElement.GetProperty("ops").GetInt64());
        Assert.Equal(0, doc.RootElement.GetProperty("errors_total").GetInt64());
    }
}
