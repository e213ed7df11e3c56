using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Ketch.Server.Tests;

/// <summary>
/// Stock etcdctl 3.4's <c>check perf --load=s</c> (60 s of 150 writes/s from 50 clients) against a
/// ketch member, with compaction and defragmentation at the end. Whether it prints PASS or FAIL
/// depends on the machine's load, a timing claim that belongs in benchmarks: the test asserts that
/// the whole check runs against ketch and reports as it does against etcd, and that it cleans up.
/// </summary>
public sealed partial class EtcdctlCheckPerfTests(ITestOutputHelper log)
{
    // etcdctl 3.4's report lines, each in its passing and its failing wording.
    [GeneratedRegex(@"^(PASS: Throughput is|FAIL: Throughput too low:) \d+ writes/s$", RegexOptions.Multiline)]
    private static partial Regex Throughput();

    [GeneratedRegex(@"^(PASS: Slowest request took|Slowest request took too long:) \d+\.\d+s$", RegexOptions.Multiline)]
    private static partial Regex Slowest();

    [GeneratedRegex(@"^(PASS: Stddev is|Stddev too high:) \d+\.\d+s$", RegexOptions.Multiline)]
    private static partial Regex Stddev();

    [Fact]
    public async Task Check_perf_load_s_runs_to_its_report_against_ketch()
    {
        await using var m = await TestMember.StartSingleAsync();
        var endpoint = m.ClientUrl.Replace("http://", "", StringComparison.Ordinal);
        var (exit, output, err) = await Etcdctl.RunAsync(endpoint, "check perf --load=s --auto-compact --auto-defrag", timeoutSeconds: 180);
        log.WriteLine(output[(output.LastIndexOf('\r') + 1)..]);

        Assert.Matches(Throughput(), output);
        Assert.Matches(Slowest(), output);
        Assert.Matches(Stddev(), output);
        Assert.Matches(@"Compacted with revision \d+", output);
        Assert.Contains("Defragmented \"" + endpoint + "\"", output, StringComparison.Ordinal);
        var verdict = output.TrimEnd().Split('\n')[^1];
        Assert.Contains(verdict, new[] { "PASS", "FAIL" });
        // etcdctl exits 1 exactly when the verdict is FAIL; any other failure is an error here.
        Assert.True(exit == (verdict == "PASS" ? 0 : 1), $"exit {exit} with verdict {verdict}: {err}");
        Assert.DoesNotContain("Error", err, StringComparison.Ordinal);
        // The check deletes what it wrote.
        var left = await Etcdctl.OkAsync(endpoint, "get /etcdctl-check-perf/ --prefix --keys-only");
        Assert.True(left.Trim().Length == 0, "keys left under /etcdctl-check-perf/: " + left);
    }
}
