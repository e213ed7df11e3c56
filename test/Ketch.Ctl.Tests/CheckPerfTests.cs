using System.Text.RegularExpressions;
using Ketch.Ctl.Commands;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary><c>check perf</c> and <c>check datascale</c>: argument and precondition errors compared with etcdctl;
/// the workload itself as one short run (etcdctl's takes 60 s) whose output has etcdctl's shape, as captured
/// from etcdctl 3.4.23 <c>check perf --auto-compact --auto-defrag</c> with stdout not a terminal:
/// <code>
/// (empty line)
///  0 / 60    0.00%
///  1 / 60    1.67% 00m59s
///  ...
///  60 / 60  100.00% 1m0s
/// Compacting with revision 8994
/// Compacted with revision 8994
/// Defragmenting "127.0.0.1:23791"
/// Defragmented "127.0.0.1:23791"
/// PASS: Throughput is 150 writes/s
/// PASS: Slowest request took 0.047100s
/// PASS: Stddev is 0.002342s
/// PASS
/// </code></summary>
public sealed class CheckPerfTests(CtlFixture f) : IClassFixture<CtlFixture>
{
    [Fact]
    public async Task Errors_match_etcdctl()
    {
        await f.SameAsync(["check", "perf", "--load", "huge"]);
        await f.SameAsync(["check", "datascale", "--load", "huge"]);
        await f.EtcdctlAsync(["put", "/busy/k", "v"]);
        await f.SameAsync(["check", "perf", "--prefix", "/busy/"]);
        await f.SameAsync(["check", "datascale", "--prefix", "/busy/"]);
    }

    [Fact]
    public async Task A_short_perf_run_prints_etcdctls_report()
    {
        var command = new CheckCommand.Perf(TimeSpan.FromSeconds(3));
        string[] args = ["check", "perf", "--auto-compact", "--auto-defrag"];
        var parsed = ParsedArgs.Parse(["--endpoints=" + f.Endpoint, .. args], CtlContext.GlobalFlags.Concat(command.Flags));
        parsed.Positional.RemoveRange(0, 2);
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        var ctx = new CtlContext { Out = o, Err = e, In = new StringReader(""), Args = parsed };
        var rc = await command.RunAsync(ctx, parsed);
        var output = o.ToString();
        var ep = Regex.Escape(f.Endpoint);
        Assert.Matches(
            "^(\n \\d / 3 +\\d+\\.\\d\\d%( \\d\\dm\\d\\ds)?)*\n 3 / 3  100\\.00% 3s\n" +
            "Compacting with revision (\\d+)\nCompacted with revision \\d+\n" +
            $"Defragmenting \"{ep}\"\nDefragmented \"{ep}\"\n" +
            "(PASS: Throughput is \\d+ writes/s|FAIL: Throughput too low: \\d+ writes/s)\n" +
            "(PASS: Slowest request took|Slowest request took too long:) \\d+\\.\\d{6}s\n" +
            "(PASS: Stddev is|Stddev too high:) \\d+\\.\\d{6}s\n(PASS|FAIL)\n$",
            output);
        Assert.Equal(output.EndsWith("\nPASS\n", StringComparison.Ordinal) ? 0 : 1, rc);
        Assert.Equal("", e.ToString());
        // About 150 writes/s for 3 s went in, and were deleted afterwards.
        var writes = long.Parse(Regex.Match(output, "Throughput (?:is|too low:) (\\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(writes, 1, 160);
        var left = await f.EtcdctlAsync(["get", "/etcdctl-check-perf/", "--prefix", "-w", "json"]);
        Assert.Equal(0, left.ExitCode);
        Assert.DoesNotContain("\"kvs\"", left.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Datascale_reports_memory_as_etcdctl()
    {
        var run = await f.KetchctlAsync(["check", "datascale"]);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Matches(
            "^Start data scale check for work load \\[10000 key-value pairs, 1024 bytes per key-value, 50 concurrent clients\\]\\.\n" +
            "(\n \\d+ / 10000 +\\d+\\.\\d\\d%( \\d\\dm\\d\\ds)?)*\n 10000 / 10000  100\\.00% (\\d+m)?\\d+s\n" +
            "PASS: Approximate system memory used : -?\\d+\\.\\d\\d MB\\.\n$",
            run.Stdout);
    }
}
