using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary>ketchctl against etcdctl: the same command on the same server, outputs compared
/// (byte for byte where deterministic, masked where ids, revisions or times necessarily differ).
/// Runs against real etcd (<see cref="EtcdCompatibilityTests"/>) and against ketch
/// (<see cref="KetchCompatibilityTests"/>) with the same assertions.</summary>
public abstract class CompatibilityTests(CtlFixture f)
{
    private Task<Run> Etcdctl(params string[] args) => f.EtcdctlAsync(args);

    [Fact]
    public async Task Get_in_every_format_and_option()
    {
        await Etcdctl("put", "g/a", "1");
        await Etcdctl("put", "g/b", "two words");
        await Etcdctl("put", "g/c", "x\ty\u0001<&>");
        await Etcdctl("put", "g/a", "3");
        string[][] cases =
        [
            ["get", "g/a"], ["get", "g/", "--prefix"], ["get", "g/a", "g/c"], ["get", "g/b", "--from-key"],
            ["get", "g/", "--prefix", "-w", "json"], ["get", "g/", "--prefix", "-w=fields"], ["get", "g/", "--prefix", "--hex"],
            ["get", "g/", "--prefix", "--keys-only"], ["get", "g/", "--prefix", "--print-value-only"], ["get", "g/", "--prefix", "--limit", "2"],
            ["get", "g/", "--prefix", "--sort-by", "VALUE", "--order", "DESCEND"], ["get", "g/", "--prefix", "--sort-by=MODIFY"],
            ["get", "g/", "--prefix", "--consistency", "s"],
            ["--write-out", "json", "get", "g/b"], ["get", "g/b", "-w", "table"], ["get", "missing"], ["get", "missing", "-w", "json"],
            ["get"], ["get", "g/a", "--bogus"], ["get", "g/a", "--rev", "abc"], ["get", "--prefix", "--from-key", "g/"],
        ];
        foreach (var c in cases)
        {
            await f.SameAsync(c);
        }
        var rev = await Etcdctl("get", "g/a", "-w", "json");
        var r = System.Text.RegularExpressions.Regex.Match(rev.Stdout, "\"create_revision\":(\\d+)").Groups[1].Value;
        await f.SameAsync(["get", "g/a", "--rev", r]);
    }

    [Fact]
    public async Task Put_and_del_outputs_match()
    {
        await f.SameAsync(["put", "p/a", "1"]);
        Func<Task> reset = () => Etcdctl("put", "p/a", "1");
        await f.SameAsync(["put", "p/a", "2", "--prev-kv"], normalize: true, before: reset);
        await f.SameAsync(["put", "p/a", "3", "--prev-kv", "-w", "json"], normalize: true, before: reset);
        await f.SameAsync(["put", "p/a", "4", "--prev-kv", "-w", "fields"], normalize: true, before: reset);
        await f.SameAsync(["put", "p/b"], stdin: "from stdin");
        await f.SameAsync(["put"]);
        await f.SameAsync(["put", "p/a", "x", "--lease", "zz"]);
        await f.SameAsync(["put", "p/a", "x", "--lease", "1234"]);
        await f.SameAsync(["del", "p/none"]);
        await f.SameAsync(["del", "p/none", "-w", "json"], normalize: true);
        await Etcdctl("put", "p/c", "c");
        await Etcdctl("put", "p/d", "d");
        await f.SameAsync(["del", "p/c", "--prev-kv"], before: () => Etcdctl("put", "p/c", "c"));
        await f.SameAsync(["del"]);
    }

    [Fact]
    public async Task Txn_from_stdin_matches()
    {
        await Etcdctl("put", "t/k", "v");
        const string ok = "value(\"t/k\") = \"v\"\nmod(\"t/k\") > \"0\"\n\nput t/x 1\nget t/k\ndel t/none\n\nget t/k\n\n";
        await f.SameAsync(["txn"], ok, normalize: true);
        await f.SameAsync(["txn", "-w", "json"], ok, normalize: true);
        await f.SameAsync(["txn", "-w", "fields"], ok, normalize: true);
        await f.SameAsync(["txn", "-i"], ok, normalize: true);
        const string fail = "version(\"t/k\") = \"7\"\n\nput t/x 1\n\nget t/k --prefix\nput t/y \"two words\"\n\n";
        await f.SameAsync(["txn"], fail, normalize: true);
        await f.SameAsync(["txn"], "value(\"t/k\") = \"v\"\n\nput t/x 1\n");
    }

    [Fact]
    public async Task Compaction_matches()
    {
        await Etcdctl("put", "c/a", "1");
        var head = await Etcdctl("get", "c/a", "-w", "json");
        var rev = System.Text.RegularExpressions.Regex.Match(head.Stdout, "\"revision\":(\\d+)").Groups[1].Value;
        var a = await f.EtcdctlAsync(["compaction", rev]);
        Assert.Equal($"compacted revision {rev}\n", a.Stdout);
        await Etcdctl("put", "c/a", "2");
        var rev2 = (long.Parse(rev, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var b = await f.KetchctlAsync(["compaction", rev2]);
        Assert.Equal($"compacted revision {rev2}\n", b.Stdout);
        await f.SameAsync(["compaction", "1"]);
        await f.SameAsync(["compaction"]);
        await f.SameAsync(["get", "c/a", "--rev", "1"]);
    }

    [Fact]
    public async Task Watch_from_a_revision_prints_the_same_events()
    {
        await Etcdctl("put", "w/a", "1");
        var head = await Etcdctl("get", "w/a", "-w", "json");
        var rev = System.Text.RegularExpressions.Regex.Match(head.Stdout, "\"mod_revision\":(\\d+)").Groups[1].Value;
        await Etcdctl("put", "w/b", "2");
        await Etcdctl("put", "w/a", "3");
        await Etcdctl("del", "w/b");
        foreach (string[] args in (string[][])[["watch", "w/", "--prefix", "--rev", rev], ["watch", "w/", "--prefix", "--rev", rev, "--prev-kv"], ["watch", "w/a", "--rev", rev, "-w", "json"]])
        {
            var expected = await WatchEtcdctlAsync(args, 1 + (args.Length > 5 && args[5] == "--prev-kv" ? 3 : 0));
            using var cts = new CancellationTokenSource();
            var run = f.KetchctlAsync(args, interrupt: cts.Token);
            // Events of past revisions arrive at once; wait for the expected output length, then interrupt.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            Run? got = null;
            cts.CancelAfter(TimeSpan.FromSeconds(3));
            got = await run;
            Assert.True(DateTime.UtcNow < deadline);
            Assert.Equal(CtlFixture.Mask(expected), CtlFixture.Mask(got.Stdout));
        }
    }

    /// <summary>etcdctl watch never exits by itself: read until its output stops growing past the history, then kill it.</summary>
    private async Task<string> WatchEtcdctlAsync(string[] args, int _)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(Ketch.Testing.Tools.Require("etcdctl", "etcd-client"))
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--endpoints=" + f.Endpoint);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = System.Diagnostics.Process.Start(psi)!;
        var sb = new System.Text.StringBuilder();
        var read = Task.Run(async () =>
        {
            var buf = new char[4096];
            int n;
            while ((n = await p.StandardOutput.ReadAsync(buf)) > 0)
            {
                lock (sb)
                {
                    sb.Append(buf, 0, n);
                }
            }
        });
        // The history is short: 3 s is ample for it to be printed (same window as ketchctl's run).
        await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(3)));
        p.Kill();
        await p.WaitForExitAsync();
        await read;
        lock (sb)
        {
            return sb.ToString();
        }
    }

    [Fact]
    public async Task Lease_commands_match()
    {
        await f.SameAsync(["lease", "grant", "100"], normalize: true);
        await f.SameAsync(["lease", "grant", "100", "-w", "json"], normalize: true);
        await f.SameAsync(["lease", "grant", "100", "-w", "fields"], normalize: true);
        await f.SameAsync(["lease", "grant"]);
        var grant = await Etcdctl("lease", "grant", "300");
        var id = grant.Stdout.Split(' ')[1];
        await Etcdctl("put", "l/k", "v", "--lease", id);
        await f.SameAsync(["lease", "timetolive", id], normalize: true);
        await f.SameAsync(["lease", "timetolive", id, "--keys"], normalize: true);
        await f.SameAsync(["lease", "timetolive", id, "--keys", "-w", "json"], normalize: true);
        await f.SameAsync(["lease", "keep-alive", "--once", id], normalize: true);
        await f.SameAsync(["lease", "list"]);
        await f.SameAsync(["lease", "list", "-w", "json"]);
        await f.SameAsync(["lease", "list", "-w", "fields"]);
        var a = await f.EtcdctlAsync(["lease", "revoke", id]);
        var other = (await Etcdctl("lease", "grant", "300")).Stdout.Split(' ')[1];
        var b = await f.KetchctlAsync(["lease", "revoke", other]);
        Assert.Equal($"lease {other} revoked\n", b.Stdout);
        Assert.Equal($"lease {id} revoked\n", a.Stdout);
        Assert.Equal(0, b.ExitCode);
        await f.SameAsync(["lease", "timetolive", id]);
        await f.SameAsync(["lease", "revoke", "zz"]);
    }

    [Fact]
    public async Task Member_commands_match()
    {
        await f.SameAsync(["member", "list"]);
        await f.SameAsync(["member", "list", "-w", "json"]);
        await f.SameAsync(["member", "list", "-w", "fields"]);
        await f.SameAsync(["member", "list", "-w", "table"]);
        await f.SameAsync(["member", "remove", "xyz"]);
        await f.SameAsync(["member", "add", "x"]);
    }

    /// <summary>Waits until two status reads in a row agree: the writes of the tests before are
    /// committed by the backend's timer, and a commit moves the database size between the two
    /// runs compared (CI saw 1054757 against 1054704 bytes).</summary>
    private async Task StatusSettledAsync()
    {
        var previous = "";
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!deadline.IsCancellationRequested)
        {
            var now = (await f.KetchctlAsync(["endpoint", "status", "-w", "json"])).Stdout;
            if (now == previous)
            {
                return;
            }
            previous = now;
            await Task.Delay(TimeSpan.FromMilliseconds(150), CancellationToken.None); // longer than the backend's 100 ms batch interval
        }
    }

    [Fact]
    public async Task Endpoint_alarm_defrag_and_move_leader_match()
    {
        await StatusSettledAsync();
        await f.SameAsync(["endpoint", "status"]);
        await f.SameAsync(["endpoint", "status", "-w", "json"]);
        await f.SameAsync(["endpoint", "status", "-w", "fields"]);
        await f.SameAsync(["endpoint", "status", "-w", "table"]);
        await f.SameAsync(["endpoint", "hashkv"]);
        await f.SameAsync(["endpoint", "hashkv", "-w", "json"]);
        await f.SameAsync(["endpoint", "hashkv", "-w", "table"]);
        await f.SameAsync(["endpoint", "hashkv", "-w", "fields"]);
        foreach (var fmt in new[] { "simple", "json", "table", "fields" })
        {
            var a = await f.EtcdctlAsync(["endpoint", "health", "-w", fmt]);
            var b = await f.KetchctlAsync(["endpoint", "health", "-w", fmt]);
            static string Shape(string s) => System.Text.RegularExpressions.Regex.Replace(CtlFixture.Mask(s), "[ -]+", " ");
            Assert.Equal(Shape(a.Stdout), Shape(b.Stdout));
            Assert.Equal(Shape(a.Errors), Shape(b.Errors));
            Assert.Equal(a.ExitCode, b.ExitCode);
        }
        await f.SameAsync(["alarm", "list"]);
        await f.SameAsync(["alarm", "list", "-w", "json"]);
        await f.SameAsync(["alarm", "disarm"]);
        await f.SameAsync(["defrag"]);
        var members = await Etcdctl("member", "list");
        var self = members.Stdout.Split(',')[0];
        await f.SameAsync(["move-leader", self]);
        await f.SameAsync(["move-leader"]);
    }

    /// <summary>etcdctl's <c>--cluster</c> dials each member's advertised client URL; the
    /// concrete classes run it.</summary>
    protected async Task EndpointStatusClusterMatches()
    {
        // The two reads may straddle a change of the database size (a RocksDB flush or a write
        // by another test), so the pair is read again, a few times, until both saw the same state.
        string etcdctl = "", ketchctl = "";
        for (var attempt = 0; attempt < 5 && (attempt == 0 || etcdctl != ketchctl); attempt++)
        {
            etcdctl = (await f.EtcdctlAsync(["endpoint", "status", "--cluster"])).Stdout;
            ketchctl = (await f.KetchctlAsync(["endpoint", "status", "--cluster"])).Stdout;
        }
        Assert.Equal(etcdctl, ketchctl);
    }

    [Fact]
    public async Task Snapshot_save_writes_a_database_file()
    {
        var dir = Directory.CreateTempSubdirectory("ketchctl-snap-").FullName;
        try
        {
            var a = await f.EtcdctlAsync(["snapshot", "save", Path.Combine(dir, "a.db")]);
            var b = await f.KetchctlAsync(["snapshot", "save", Path.Combine(dir, "b.db")]);
            Assert.Equal(0, a.ExitCode);
            Assert.Equal(0, b.ExitCode);
            Assert.Equal(a.Stdout.Replace("a.db", "b.db", StringComparison.Ordinal), b.Stdout);
            Assert.True(new FileInfo(Path.Combine(dir, "b.db")).Length > 0);
            Assert.False(File.Exists(Path.Combine(dir, "b.db.part")));
            await f.SameAsync(["snapshot", "save"]);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Lock_and_elect_interoperate_with_etcdctl()
    {
        using var cts = new CancellationTokenSource();
        var run = f.KetchctlAsync(["lock", "mylock"], interrupt: cts.Token);
        var client = new Ketch.Client.KetchClient(f.Endpoint);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await client.Kv.GetAsync("mylock/", new Ketch.Client.GetOptions { Prefix = true })).Kvs.Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "ketchctl lock did not take the lock");
            await Task.Delay(20);
        }
        // While ketchctl holds it, etcdctl's lock must wait (etcdctl 3.4's lock waits however long
        // --command-timeout is): it queues its own key behind ketchctl's and does not finish.
        var waiter = f.EtcdctlAsync(["lock", "mylock", "--", "true"]);
        while ((await client.Kv.GetAsync("mylock/", new Ketch.Client.GetOptions { Prefix = true })).Kvs.Count < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "etcdctl lock did not queue behind ketchctl's");
            await Task.Delay(20);
        }
        Assert.False(waiter.IsCompleted, "etcdctl took a lock that ketchctl holds");
        cts.Cancel();
        var held = await run;
        Assert.True(held.ExitCode == 0, held.Stderr);
        // etcdctl prints the key as `get` does: the key, then its empty value.
        Assert.Matches("^mylock/[0-9a-f]+\n\n$", held.Stdout);
        // Released by ketchctl, the lock passes to etcdctl, which runs its command and releases it.
        var next = await waiter.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(next.ExitCode == 0, next.Stderr);
        Assert.Empty((await client.Kv.GetAsync("mylock/", new Ketch.Client.GetOptions { Prefix = true })).Kvs);
        var withCommand = await f.KetchctlAsync(["lock", "mylock", "--", "sh", "-c", "test -n \"$ETCD_LOCK_KEY\""]);
        Assert.Equal(0, withCommand.ExitCode);

        using var e = new CancellationTokenSource();
        var elect = f.KetchctlAsync(["elect", "myelect", "p1"], interrupt: e.Token);
        while ((await client.Kv.GetAsync("myelect/", new Ketch.Client.GetOptions { Prefix = true })).Kvs.Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "ketchctl elect did not campaign");
            await Task.Delay(20);
        }
        using var l = new CancellationTokenSource();
        var listen = f.KetchctlAsync(["elect", "-l", "myelect"], interrupt: l.Token);
        l.CancelAfter(TimeSpan.FromSeconds(2));
        var listened = await listen;
        e.Cancel();
        var elected = await elect;
        Assert.Matches("^myelect/[0-9a-f]+\np1\n$", elected.Stdout);
        Assert.Equal(elected.Stdout, listened.Stdout);
        await f.SameAsync(["elect"]);
        client.Dispose();
    }

    [Fact]
    public async Task Lease_keep_alive_renews_and_ends_as_etcdctl_does()
    {
        using var client = new Ketch.Client.KetchClient(f.Endpoint);
        foreach (var format in new[] { "simple", "json" })
        {
            var id = (await client.Lease.GrantAsync(3)).ID;
            var hex = id.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
            string[] args = ["lease", "keep-alive", hex, "-w", format];
            await using var a = LiveRun.Etcdctl(f.Endpoint, args);
            await using var b = LiveRun.Ketchctl(f.Endpoint, args);
            // Both renew every third of the TTL; once each has renewed twice, the lease is revoked and both
            // notice it at their next renewal and end by themselves.
            await a.WaitForAsync((o, _) => o.Count(c => c == '\n') >= 2, "two renewals by etcdctl");
            await b.WaitForAsync((o, _) => o.Count(c => c == '\n') >= 2, "two renewals by ketchctl");
            await client.Lease.RevokeAsync(id);
            Assert.Equal(0, await a.ExitAsync());
            Assert.Equal(0, await b.ExitAsync());
            Assert.Equal("", a.Errors());
            Assert.Equal("", b.Stderr);
            // The number of renewals depends on timing: compare the distinct lines in order.
            Assert.Equal(Distinct(a.Stdout), Distinct(b.Stdout));
            if (format == "simple")
            {
                var lease = id.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(Distinct($"lease {lease} keepalived with TTL(3)\nlease {lease} expired or revoked.\n"), Distinct(b.Stdout));
            }
        }

        static string Distinct(string s)
        {
            var lines = CtlFixture.Mask(s).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Concat(lines.Where((l, i) => i == 0 || l != lines[i - 1]).Select(l => l + "\n"));
        }
    }

    [Fact]
    public async Task Lock_prints_its_key_as_etcdctl_does()
    {
        using var client = new Ketch.Client.KetchClient(f.Endpoint);
        foreach (var format in new[] { "simple", "json" })
        {
            string[] args = ["lock", "cmp-lock", "-w", format];
            // The simple format is the key and its empty value; json, the `get` response in one line.
            Func<string, string, bool> printed = format == "simple" ? (o, _) => o.EndsWith("\n\n", StringComparison.Ordinal) : (o, _) => o.EndsWith("}\n", StringComparison.Ordinal);
            string etcdctl;
            await using (var a = LiveRun.Etcdctl(f.Endpoint, args))
            {
                await a.WaitForAsync(printed, "etcdctl's lock key");
                etcdctl = a.Stdout;
            }
            // etcdctl was killed and cannot unlock: revoke its session's lease, which deletes its key.
            await RevokeHoldersAsync(client, "cmp-lock/");
            await using (var b = LiveRun.Ketchctl(f.Endpoint, args))
            {
                await b.WaitForAsync(printed, "ketchctl's lock key");
                Assert.Equal(LockShape(etcdctl), LockShape(b.Stdout));
                Assert.Equal(0, await b.StopAsync());
                Assert.Equal("", b.Stderr);
            }
            // Interrupted, ketchctl unlocked.
            Assert.Empty((await client.Kv.GetAsync("cmp-lock/", new Ketch.Client.GetOptions { Prefix = true })).Kvs);
        }
        // A command that fails or cannot be found, run under the lock; errors in the arguments.
        await f.SameAsync(["lock", "cmp-lock", "--", "sh", "-c", "exit 3"]);
        await f.SameAsync(["lock", "cmp-lock", "--", "no-such-command-for-ketch"]);
        await f.SameAsync(["lock", "cmp-lock", "--", "sh", "-c", "echo \"$ETCD_LOCK_KEY\" | grep -q '^cmp-lock/'"]);
        await f.SameAsync(["lock"]);

        // The key holds the session's lease id; mask it before Mask (which would mask 16-digit ids only).
        static string LockShape(string s) =>
            CtlFixture.Mask(System.Text.RegularExpressions.Regex.Replace(s, "cmp-lock/[0-9a-f]+|\"key\":\"[^\"]*\"", "KEY"));
    }

    [Fact]
    public async Task Elect_campaigns_and_observes_as_etcdctl_does()
    {
        using var client = new Ketch.Client.KetchClient(f.Endpoint);
        await using var observeA = LiveRun.Etcdctl(f.Endpoint, ["elect", "-l", "cmp-elect"]);
        await using var observeB = LiveRun.Ketchctl(f.Endpoint, ["elect", "-l", "cmp-elect"]);
        // etcdctl campaigns first: both observers print its key and proposal as it does.
        string first;
        await using (var a = LiveRun.Etcdctl(f.Endpoint, ["elect", "cmp-elect", "p1"]))
        {
            await a.WaitForAsync((o, _) => o.Count(c => c == '\n') >= 2, "etcdctl elected");
            first = a.Stdout;
            Assert.Matches("^cmp-elect/[0-9a-f]+\np1\n$", first);
            await observeA.WaitForAsync((o, _) => o == first, "etcdctl observing etcdctl's leadership");
            await observeB.WaitForAsync((o, _) => o == first, "ketchctl observing etcdctl's leadership");
        }
        // Killed, etcdctl cannot resign: revoke its session; then ketchctl campaigns.
        await RevokeHoldersAsync(client, "cmp-elect/");
        await using (var b = LiveRun.Ketchctl(f.Endpoint, ["elect", "cmp-elect", "p1"]))
        {
            await b.WaitForAsync((o, _) => o.Count(c => c == '\n') >= 2, "ketchctl elected");
            var second = b.Stdout;
            Assert.Equal(Shape(first), Shape(second));
            await observeA.WaitForAsync((o, _) => o == first + second, "etcdctl observing ketchctl's leadership");
            await observeB.WaitForAsync((o, _) => o == first + second, "ketchctl observing ketchctl's leadership");
            Assert.Equal(0, await b.StopAsync());
            Assert.Equal("", b.Stderr);
        }
        var observed = await observeB.StopAsync();
        Assert.True(observed == 0 && observeB.Stderr.Length == 0, $"ketchctl elect -l ended with {observed}: {observeB.Stderr}");
        Assert.Equal("", observeA.Errors());
        await f.SameAsync(["elect", "cmp-elect", "p2", "-l"]);
        await f.SameAsync(["elect", "a", "b", "c"]);

        static string Shape(string s) => System.Text.RegularExpressions.Regex.Replace(s, "/[0-9a-f]+\n", "/LEASE\n");
    }

    [Theory]
    [InlineData("lock", "cmp-int-lock", "^cmp-int-lock/[0-9a-f]+\n\n$")]
    [InlineData("elect", "cmp-int-elect", "^cmp-int-elect/[0-9a-f]+\np1\n$")]
    public async Task Interrupted_as_soon_as_its_key_is_printed_ketchctl_releases_and_exits_0(string command, string name, string printed)
    {
        // etcdctl, once it has printed the lock's or the leader's key, takes an interrupt as the end: it unlocks or
        // resigns and exits 0. The interrupt here comes inside the write of the key's last line, before anything
        // that follows the print (a flush once took the interrupt as its own cancellation: exit 5, no resignation,
        // and Elect_campaigns_and_observes_as_etcdctl_does failed now and then when it stopped ketchctl that soon).
        using var client = new Ketch.Client.KetchClient(f.Endpoint);
        using var interrupt = new CancellationTokenSource();
        var stdout = new InterruptAfterLines(2, interrupt);
        var stderr = new StringWriter { NewLine = "\n" };
        string[] args = command == "lock" ? ["lock", name] : ["elect", name, "p1"];
        var rc = await Runner.RunAsync(["--endpoints=" + f.Endpoint, .. args], stdout, stderr, new StringReader(""), new Dictionary<string, string>(), interrupt.Token)
            .WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(interrupt.IsCancellationRequested, "the key was never printed");
        Assert.True(rc == 0, $"ketchctl {command} ended with {rc}: {stderr}");
        Assert.Equal("", stderr.ToString());
        Assert.Matches(printed, stdout.ToString());
        // Unlocked or resigned: no key of it is left.
        Assert.Empty((await client.Kv.GetAsync(name + "/", new Ketch.Client.GetOptions { Prefix = true })).Kvs);
    }

    /// <summary>stdout that raises the interrupt in the write that completes the given number of lines (every write of a
    /// <see cref="TextWriter"/> ends in one of the three overridden here).</summary>
    private sealed class InterruptAfterLines(int lines, CancellationTokenSource interrupt) : TextWriter
    {
        private readonly System.Text.StringBuilder _text = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => Append(value.ToString());

        public override void Write(string? value) => Append(value);

        public override void Write(char[] buffer, int index, int count) => Append(new string(buffer, index, count));

        public override string ToString()
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }

        private void Append(string? value)
        {
            bool complete;
            lock (_text)
            {
                _text.Append(value);
                complete = _text.ToString().Count(c => c == '\n') >= lines;
            }
            if (complete && !interrupt.IsCancellationRequested)
            {
                interrupt.Cancel();
            }
        }
    }

    /// <summary>Revokes the leases of the keys under <paramref name="prefix"/>: those of an etcdctl that was killed
    /// holding a lock or a leadership.</summary>
    private static async Task RevokeHoldersAsync(Ketch.Client.KetchClient client, string prefix)
    {
        foreach (var kv in (await client.Kv.GetAsync(prefix, new Ketch.Client.GetOptions { Prefix = true })).Kvs)
        {
            await client.Lease.RevokeAsync(kv.Lease);
        }
    }

    [Fact]
    public async Task Global_flags_environment_and_errors_match()
    {
        await Etcdctl("put", "env/k", "v");
        var env = new Dictionary<string, string> { ["ETCDCTL_WRITE_OUT"] = "json" };
        var a = await f.EtcdctlAsync(["get", "env/k"], env: env);
        var b = await f.KetchctlAsync(["get", "env/k"], env: env);
        Assert.Equal(a.Stdout, b.Stdout);
        var k = await f.KetchctlAsync(["get", "env/k"], env: new() { ["KETCHCTL_WRITE_OUT"] = "fields" });
        Assert.StartsWith("\"ClusterID\" : ", k.Stdout, StringComparison.Ordinal);
        var u1 = await f.EtcdctlAsync(["nosuchcommand"]);
        var u2 = await f.KetchctlAsync(["nosuchcommand"]);
        Assert.Equal(u1.Errors.Split('\n')[0].Replace("etcdctl", "ketchctl", StringComparison.Ordinal), u2.Errors.Split('\n')[0]);
        Assert.Equal(u1.ExitCode, u2.ExitCode);
        await f.SameAsync(["get", "env/k", "--command-timeout=abc"]);
        var dead = $"127.0.0.1:{Ketch.Testing.Tools.FreePort()}";
        var d1 = await f.EtcdctlAsync(["--endpoints", dead, "--dial-timeout=300ms", "--command-timeout=1s", "get", "x"]);
        var d2 = await f.KetchctlAsync(["--endpoints", dead, "--dial-timeout=300ms", "--command-timeout=1s", "get", "x"]);
        // Repeated --endpoints append (pflag): both fail over from the dead endpoint to the live one.
        Assert.Equal(d1.Stdout, d2.Stdout);
        Assert.Equal(d1.ExitCode, d2.ExitCode);
        var v = await f.KetchctlAsync(["version"]);
        Assert.Matches("^ketchctl version: .+\nAPI version: 3\\.\\d\n$", v.Stdout);
    }
}

/// <summary><see cref="CompatibilityTests"/> on a real etcd.</summary>
public sealed class EtcdCompatibilityTests(CtlFixture f) : CompatibilityTests(f), IClassFixture<CtlFixture>
{
    [Fact]
    public Task Endpoint_status_cluster_matches() => EndpointStatusClusterMatches();
}

/// <summary><see cref="CompatibilityTests"/> on a ketch member.</summary>
public sealed class KetchCompatibilityTests(KetchCtlFixture f) : CompatibilityTests(f), IClassFixture<KetchCtlFixture>
{
    [Fact]
    public Task Endpoint_status_cluster_matches() => EndpointStatusClusterMatches();
}
