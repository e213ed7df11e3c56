using System.Diagnostics;

namespace Ketch.Server.Tests;

/// <summary>The `ketch` executable as a process: flags, --version, and etcdctl against it.</summary>
public sealed class KetchProcessTests
{
    private static readonly string s_exe = Path.Combine(AppContext.BaseDirectory, "ketch.dll");

    private static Process Start(IEnumerable<string> args, string workDir, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir,
        };
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        psi.ArgumentList.Add(s_exe);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi)!;
    }

    private static async Task<(int Exit, string Out, string Err)> RunToEnd(params string[] args)
    {
        using var dir = new TempDir();
        using var p = Start(args, dir.Path);
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await o, await e);
    }

    [Fact]
    public async Task Version_help_and_bad_flags()
    {
        var v = await RunToEnd("--version");
        Assert.Equal(0, v.Exit);
        Assert.Contains("etcd API Version: 3.5", v.Out, StringComparison.Ordinal);
        var h = await RunToEnd("--help");
        Assert.Equal(0, h.Exit);
        Assert.Contains("--initial-cluster-state", h.Out, StringComparison.Ordinal);
        var bad = await RunToEnd("--bogus");
        Assert.NotEqual(0, bad.Exit);
        Assert.Contains("flag provided but not defined: -bogus", bad.Err, StringComparison.Ordinal);
        var badValue = await RunToEnd("--snapshot-count", "many");
        Assert.NotEqual(0, badValue.Exit);
        Assert.Contains("invalid value \"many\" for flag -snapshot-count", badValue.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bcrypt_cost_that_is_not_a_number_stops_the_start()
    {
        var bad = await RunToEnd("--bcrypt-cost", "ten");
        Assert.Equal(2, bad.Exit);
        Assert.Contains("ketch: invalid value \"ten\" for flag -bcrypt-cost", bad.Err, StringComparison.Ordinal);
    }

    /// <summary>Starts one member on free loopback ports (its peer URL from <c>ETCD_LISTEN_PEER_URLS</c>,
    /// as a user's environment would give it), waits until stock etcdctl can put
    /// <paramref name="probeKey"/> through it, runs <paramref name="check"/> with the process and
    /// its endpoint, then stops it.</summary>
    private static async Task WithServingMemberAsync(TempDir dir, string probeKey, Dictionary<string, string>? env,
        Func<Process, string, Task> check)
    {
        Etcdctl.Require();
        var client = $"http://127.0.0.1:{TestNet.FreePort()}";
        var peer = $"http://127.0.0.1:{TestNet.FreePort()}";
        var environment = new Dictionary<string, string>(env ?? []) { ["ETCD_LISTEN_PEER_URLS"] = peer };
        using var p = Start(["--listen-client-urls", client, "--advertise-client-urls", client, "--initial-advertise-peer-urls", peer],
            dir.Path, environment);
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try
        {
            var endpoint = client.Replace("http://", "", StringComparison.Ordinal);
            await TestNet.WaitUntil(async () => (await Etcdctl.RunAsync(endpoint, $"put {probeKey} v", timeoutSeconds: 5)).Exit == 0,
                TimeSpan.FromSeconds(30), "ketch to serve etcdctl put");
            await check(p, endpoint);
        }
        finally
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Etcdctl_put_get_against_the_ketch_process_configured_by_env()
    {
        using var dir = new TempDir();
        await WithServingMemberAsync(dir, "probe", env: null, async (_, endpoint) =>
        {
            await Etcdctl.OkAsync(endpoint, "put foo bar");
            Assert.Equal("foo\nbar\n", await Etcdctl.OkAsync(endpoint, "get foo"));
            Assert.True(Directory.Exists(Path.Combine(dir.Path, "default.ketch", "member")), "data in ./default.ketch");
        });
    }

    [Theory]
    [InlineData(null, "0x4000000")]
    [InlineData("0x1000000", "0x1000000")]
    public async Task The_process_serving_runs_with_a_64_MiB_gen0_budget_unless_the_user_set_one(string? userValue, string expected)
    {
        // The runtime takes the gen0 budget from the environment only, so ketch re-executes itself
        // once with it set (GcBudget): the process we started is the one serving, with the variable.
        using var dir = new TempDir();
        var env = userValue is null ? null : new Dictionary<string, string> { ["DOTNET_GCgen0size"] = userValue };
        await WithServingMemberAsync(dir, "gc", env, async (p, _) =>
        {
            Assert.False(p.HasExited);
            var environ = (await File.ReadAllTextAsync($"/proc/{p.Id}/environ")).Split('\0');
            Assert.Contains($"DOTNET_GCgen0size={expected}", environ);
            Assert.Single(environ, e => e.StartsWith("DOTNET_GCgen0size=", StringComparison.Ordinal));
        });
    }

    [Fact]
    public async Task Three_ketch_processes_form_a_cluster_that_etcdctl_uses()
    {
        Etcdctl.Require();
        using var dir = new TempDir();
        var specs = Enumerable.Range(1, 3).Select(i =>
        {
            var ip = $"127.0.0.{30 + i}";
            return (Name: $"p{i}", Client: $"http://{ip}:{TestNet.FreePort(ip)}", Peer: $"http://{ip}:{TestNet.FreePort(ip)}");
        }).ToList();
        var initial = string.Join(",", specs.Select(s => $"{s.Name}={s.Peer}"));
        var processes = new List<Process>();
        try
        {
            foreach (var s in specs)
            {
                var p = Start(
                [
                    "--name", s.Name, "--data-dir", Path.Combine(dir.Path, s.Name),
                    "--listen-client-urls", s.Client, "--advertise-client-urls", s.Client,
                    "--listen-peer-urls", s.Peer, "--initial-advertise-peer-urls", s.Peer,
                    "--initial-cluster", initial, "--initial-cluster-token", "proc-test",
                    "--heartbeat-interval", "50", "--election-timeout", "500",
                ], dir.Path);
                p.OutputDataReceived += (_, _) => { };
                p.ErrorDataReceived += (_, _) => { };
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                processes.Add(p);
            }
            var endpoints = string.Join(",", specs.Select(s => s.Client.Replace("http://", "", StringComparison.Ordinal)));
            var first = specs[0].Client.Replace("http://", "", StringComparison.Ordinal);
            var third = specs[2].Client.Replace("http://", "", StringComparison.Ordinal);
            await TestNet.WaitUntil(async () => (await Etcdctl.RunAsync(first, "put cluster-key v1", timeoutSeconds: 5)).Exit == 0,
                TimeSpan.FromSeconds(60), "the cluster to accept a write");
            Assert.Equal("cluster-key\nv1\n", await Etcdctl.OkAsync(third, "get cluster-key"));
            var status = await Etcdctl.OkAsync(endpoints, "endpoint status");
            var lines = status.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.Single(lines, l => l.Contains(", true, false, ", StringComparison.Ordinal)); // one leader
            await TestNet.WaitUntil(async () => (await Etcdctl.OkAsync(first, "member list")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .All(l => l.Contains(", started, ", StringComparison.Ordinal) && !l.EndsWith(", , false", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(20), "every member to publish its client URL");
            var health = await Etcdctl.RunAsync(first, "endpoint health --cluster");
            Assert.Equal(0, health.Exit);
            Assert.Equal(3, (health.Out + health.Err).Split('\n').Count(l => l.Contains("is healthy", StringComparison.Ordinal)));
        }
        finally
        {
            foreach (var p in processes)
            {
                p.Kill();
                await p.WaitForExitAsync();
                p.Dispose();
            }
        }
    }

    [Fact]
    public async Task Killed_with_sigkill_restarts_with_every_acknowledged_write_applied_once()
    {
        using var dir = new TempDir();
        var client = $"http://127.0.0.1:{TestNet.FreePort()}";
        var peer = $"http://127.0.0.1:{TestNet.FreePort()}";
        string[] args = ["--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer];
        Process Launch()
        {
            var p = Start(args, dir.Path);
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, _) => { };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            return p;
        }
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(client);
        var kv = new Ketch.Api.Etcdserverpb.KV.KVClient(channel);
        var counter = Google.Protobuf.ByteString.CopyFromUtf8("crash/counter");
        long lastRevision = 0;
        using (var p = Launch())
        {
            try
            {
                // Probe readiness with a linearizable read, not a write: a probe write that times
                // out on the client may still be applied later (its outcome is unknown, as in
                // etcd), which would add a revision after the last acknowledged put.
                await TestNet.WaitUntil(async () =>
                {
                    await kv.RangeAsync(new Ketch.Api.Etcdserverpb.RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("crash/ready") }, deadline: DateTime.UtcNow.AddSeconds(2));
                    return true;
                }, TimeSpan.FromSeconds(30), "the process to serve");
                for (var i = 1; i <= 50; i++)
                {
                    var r = await kv.PutAsync(new Ketch.Api.Etcdserverpb.PutRequest { Key = counter, Value = Google.Protobuf.ByteString.CopyFromUtf8(i.ToString(System.Globalization.CultureInfo.InvariantCulture)) });
                    lastRevision = r.Header.Revision;
                }
            }
            finally
            {
                p.Kill(); // SIGKILL: no flush of the store's pending batch, no WAL close
                await p.WaitForExitAsync();
            }
        }
        using (var p = Launch())
        {
            try
            {
                Ketch.Api.Etcdserverpb.RangeResponse? got = null;
                await TestNet.WaitUntil(async () =>
                {
                    got = await kv.RangeAsync(new Ketch.Api.Etcdserverpb.RangeRequest { Key = counter }, deadline: DateTime.UtcNow.AddSeconds(2));
                    return true;
                }, TimeSpan.FromSeconds(30), "the restarted process to serve");
                var kvs = Assert.Single(got!.Kvs);
                Assert.Equal("50", kvs.Value.ToStringUtf8());
                Assert.Equal(50, kvs.Version); // every acknowledged put applied, none twice
                Assert.Equal(lastRevision, kvs.ModRevision);
                Assert.Equal(lastRevision, got.Header.Revision);
            }
            finally
            {
                p.Kill();
                await p.WaitForExitAsync();
            }
        }
    }

    /// <summary>
    /// A member whose Raft loop dies (here: its snapshot directory deleted under it, so the next
    /// snapshot cannot be saved) exits with status 1 and says why, as etcd exits when it cannot
    /// write its WAL or save a snapshot, so that a supervisor restarts it. Until 2026-11-28 the
    /// process stayed up, answering every request with "server stopped" and /health with false,
    /// which a supervisor watching the process never saw. Restarted, it serves every
    /// acknowledged write.
    /// </summary>
    [Fact]
    public async Task A_member_whose_raft_loop_fails_exits_with_status_1_and_restarts_on_its_data()
    {
        using var dir = new TempDir();
        var client = $"http://127.0.0.1:{TestNet.FreePort()}";
        var peer = $"http://127.0.0.1:{TestNet.FreePort()}";
        string[] args = ["--snapshot-count", "10", "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", $"default={peer}"];
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(client);
        var kv = new Ketch.Api.Etcdserverpb.KV.KVClient(channel);
        static Google.Protobuf.ByteString B(string s) => Google.Protobuf.ByteString.CopyFromUtf8(s);
        async Task ServingAsync() => await TestNet.WaitUntil(async () =>
        {
            await kv.RangeAsync(new Ketch.Api.Etcdserverpb.RangeRequest { Key = B("f/ready") }, deadline: DateTime.UtcNow.AddSeconds(2));
            return true;
        }, TimeSpan.FromSeconds(30), "the process to serve");

        var acknowledged = new List<string>();
        using (var p = Start(args, dir.Path))
        {
            var output = p.StandardOutput.ReadToEndAsync();
            var error = p.StandardError.ReadToEndAsync();
            try
            {
                await ServingAsync();
                Directory.Delete(Path.Combine(dir.Path, "default.ketch", "member", "snap"), recursive: true);
                for (var i = 0; i < 30 && !p.HasExited; i++)
                {
                    try
                    {
                        await kv.PutAsync(new Ketch.Api.Etcdserverpb.PutRequest { Key = B($"f/{i:D2}"), Value = B("v") }, deadline: DateTime.UtcNow.AddSeconds(5));
                        acknowledged.Add($"f/{i:D2}");
                    }
                    catch (Grpc.Core.RpcException)
                    {
                    }
                }
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await p.WaitForExitAsync(deadline.Token);
            }
            finally
            {
                if (!p.HasExited)
                {
                    p.Kill();
                    await p.WaitForExitAsync();
                }
            }
            Assert.Equal(1, p.ExitCode);
            Assert.Contains("failed and stops: Could not find a part of the path", await error, StringComparison.Ordinal);
            await output;
        }
        Assert.NotEmpty(acknowledged);

        using (var p = Start(args, dir.Path))
        {
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, _) => { };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            try
            {
                await ServingAsync();
                var keys = await kv.RangeAsync(new Ketch.Api.Etcdserverpb.RangeRequest { Key = B("f/"), RangeEnd = B("f0"), KeysOnly = true });
                var present = keys.Kvs.Select(k => k.Key.ToStringUtf8()).ToHashSet();
                Assert.All(acknowledged, k => Assert.Contains(k, present));
            }
            finally
            {
                p.Kill();
                await p.WaitForExitAsync();
            }
        }
    }
}
