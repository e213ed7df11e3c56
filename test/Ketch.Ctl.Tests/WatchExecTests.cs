using System.Text.RegularExpressions;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary><c>watch -- exec-command</c>, <c>watch -i</c> and the watch argument rules, etcdctl against ketchctl on the
/// same server (a real etcd, and a ketch member): outputs compared byte for byte.</summary>
public abstract class WatchExecTests(CtlFixture f)
{
    private async Task<long> PutAsync(string key, string value)
    {
        var r = await f.EtcdctlAsync(["put", key, value, "-w", "json"]);
        return long.Parse(Regex.Match(r.Stdout, "\"revision\":(\\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs both until <paramref name="until"/> holds for each, then stops them; returns (etcdctl, ketchctl).</summary>
    private async Task<(string Out, string Err)[]> BothAsync(string[] args, Func<string, string, bool> until, Dictionary<string, string>? env = null)
    {
        var results = new List<(string, string)>();
        foreach (var run in new[] { LiveRun.Etcdctl(f.Endpoint, args, env), LiveRun.Ketchctl(f.Endpoint, args, env) })
        {
            await using (run)
            {
                await run.WaitForAsync(until, string.Join(' ', args));
            }
            results.Add((run.Stdout, run.Stderr));
        }
        return [.. results];
    }

    [Fact]
    public async Task Argument_errors_match()
    {
        await f.SameAsync(["watch"]);
        await f.SameAsync(["watch", "a", "--"]);
        await f.SameAsync(["watch", "a", "b", "--prefix"]);
        await f.SameAsync(["watch", "a", "--rev", "x"]);
        foreach (var (env, args) in new (Dictionary<string, string>, string[])[]
        {
            (new() { ["ETCDCTL_WATCH_KEY"] = "foo" }, ["watch", "foo"]),
            (new() { ["ETCDCTL_WATCH_RANGE_END"] = "foo" }, ["watch", "foo"]),
            (new() { ["ETCDCTL_WATCH_KEY"] = "foo" }, ["watch", "foo", "--", "echo", "x"]),
        })
        {
            var a = await f.EtcdctlAsync(args, env: env);
            var b = await f.KetchctlAsync(args, env: env);
            Assert.Equal(a.Errors, b.Errors);
            Assert.Equal(a.ExitCode, b.ExitCode);
        }
    }

    [Fact]
    public async Task Exec_command_gets_the_event_in_its_environment()
    {
        var rev = await PutAsync("x/a", "v 1");
        await PutAsync("x/b", "\"quoted\"\ttab");
        await f.EtcdctlAsync(["del", "x/a"]);
        const string Script = "printf '%s\\n' \"rev=$ETCD_WATCH_REVISION type=$ETCD_WATCH_EVENT_TYPE key=$ETCD_WATCH_KEY value=$ETCD_WATCH_VALUE\"";
        var r = rev.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] args = ["watch", "x/", "--prefix", "--rev", r, "--", "sh", "-c", Script];
        static bool ThreeRuns(string o, string e) => Regex.Matches(o, "^rev=", RegexOptions.Multiline).Count == 3;
        var both = await BothAsync(args, ThreeRuns);
        Assert.Equal(both[0], both[1]);
        Assert.Contains("type=\"PUT\" key=\"x/b\" value=\"\\\"quoted\\\"\\ttab\"", both[1].Out, StringComparison.Ordinal);
        Assert.Contains("type=\"DELETE\" key=\"x/a\" value=\"\"", both[1].Out, StringComparison.Ordinal);

        // The key from the environment, the command after "--".
        var env = new Dictionary<string, string> { ["ETCDCTL_WATCH_KEY"] = "x/" };
        both = await BothAsync(["watch", "--prefix", "--rev", r, "--", "sh", "-c", Script], ThreeRuns, env);
        Assert.Equal(both[0], both[1]);

        // A failing command ends the watch with exit code 1, as does a missing one.
        await f.SameAsync(["watch", "x/", "--prefix", "--rev", r, "--", "sh", "-c", "exit 3"]);
        await f.SameAsync(["watch", "x/", "--prefix", "--rev", r, "--", "no-such-command-here"]);
    }

    [Fact]
    public async Task Interactive_watch_reads_requests_from_stdin()
    {
        var rev = (await PutAsync("i/a", "1")).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await PutAsync("i/b", "2");
        foreach (var format in new[] { "simple", "json" })
        {
            var runs = new[] { LiveRun.Etcdctl(f.Endpoint, ["watch", "-i", "-w", format]), LiveRun.Ketchctl(f.Endpoint, ["watch", "-i", "-w", format]) };
            var exits = new List<int>();
            foreach (var run in runs)
            {
                await using (run)
                {
                    await run.WriteLineAsync("");
                    await run.WriteLineAsync("bogus");
                    await run.WriteLineAsync("watch");
                    await run.WriteLineAsync("watch i/a i/c --prefix");
                    await run.WaitForAsync((_, e) => e.Contains("mutually exclusive", StringComparison.Ordinal), "the invalid lines");
                    await run.WriteLineAsync($"watch i/ --prefix --rev {rev} -- echo \"event\"");
                    await run.WaitForAsync((o, _) => Regex.Matches(o, "^event$", RegexOptions.Multiline).Count == 2, "two events and their commands");
                    await run.WriteLineAsync("progress");
                    await run.WaitForAsync((o, _) => o.Contains("progress notify: ", StringComparison.Ordinal), "a progress notification");
                    // Progress notifications carry no events: with -w json they print after the line.
                    if (format == "json")
                    {
                        await run.WaitForAsync((o, _) => o.TrimEnd().EndsWith("\"Created\":false}", StringComparison.Ordinal) && o.Contains("\"Events\":[]", StringComparison.Ordinal), "the progress response");
                    }
                    await run.WriteLineAsync(null);
                    exits.Add(await run.ExitAsync());
                }
            }
            Assert.Equal(runs[0].Stdout, runs[1].Stdout);
            Assert.Equal(string.Join('\n', runs[0].Stderr.Split('\n').Where(l => !l.StartsWith('{'))), runs[1].Stderr);
            Assert.Equal([3, 3], exits);
        }

        // A bad flag on a line ends the session with 128, as etcdctl.
        var a = await f.EtcdctlAsync(["watch", "-i"], "watch a --bogus\n");
        var b = await f.KetchctlAsync(["watch", "-i"], "watch a --bogus\n");
        Assert.Equal((a.Errors, a.ExitCode), (b.Errors, b.ExitCode));
    }

    [Fact]
    public async Task Watch_from_a_compacted_revision_is_canceled_as_etcdctl()
    {
        await PutAsync("c/a", "1");
        var rev = await PutAsync("c/a", "2");
        await f.EtcdctlAsync(["compaction", rev.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await f.SameAsync(["watch", "c/a", "--rev", "1"]);
    }
}

/// <summary><see cref="WatchExecTests"/> on a real etcd.</summary>
public sealed class EtcdWatchExecTests(CtlFixture f) : WatchExecTests(f), IClassFixture<CtlFixture>;

/// <summary><see cref="WatchExecTests"/> on a ketch member.</summary>
public sealed class KetchWatchExecTests(KetchCtlFixture f) : WatchExecTests(f), IClassFixture<KetchCtlFixture>;
