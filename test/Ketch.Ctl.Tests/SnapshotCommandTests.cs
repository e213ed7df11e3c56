using System.Diagnostics;
using System.Text.RegularExpressions;
using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary><c>snapshot save|status|restore</c>. On etcd: ketchctl reads etcd's (bbolt) snapshot as etcdctl does,
/// byte for byte, and fails like it. On ketch: save, status, restore into a new data directory, and a
/// <c>ketch</c> process started from it serves the snapshot's keys as a new cluster.</summary>
public sealed class SnapshotCommandTests(CtlFixture f) : IClassFixture<CtlFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ketchctl-snapshot-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public async Task Status_of_an_etcd_snapshot_matches_etcdctl()
    {
        await f.EtcdctlAsync(["put", "s/a", "1"]);
        await f.EtcdctlAsync(["put", "s/b", "2"]);
        var save = await f.EtcdctlAsync(["snapshot", "save", P("etcd.db")]);
        Assert.Equal(0, save.ExitCode);
        var mine = await f.KetchctlAsync(["snapshot", "save", P("ketchctl.db")]);
        Assert.Equal($"Snapshot saved at {P("ketchctl.db")}\n", mine.Stdout);
        Assert.False(File.Exists(P("ketchctl.db.part")));
        foreach (var file in new[] { P("etcd.db"), P("ketchctl.db") })
        {
            foreach (var format in new[] { "simple", "json", "fields", "table" })
            {
                await f.SameAsync(["snapshot", "status", file, "-w", format]);
            }
        }
        File.WriteAllText(P("garbage.db"), "garbage");
        File.WriteAllBytes(P("zeros.db"), new byte[100_000]);
        await f.SameAsync(["snapshot", "status", P("garbage.db")]);
        await f.SameAsync(["snapshot", "status", P("zeros.db")]);
        await f.SameAsync(["snapshot", "status", P("missing.db")]);
        await f.SameAsync(["snapshot", "status"]);
        await f.SameAsync(["snapshot", "save"]);
        await f.SameAsync(["snapshot", "restore"]);
        await f.SameAsync(["--endpoints", f.Endpoint, "snapshot", "save", P("two.db")]);
    }

    [Fact]
    public async Task Restore_checks_its_flags_as_etcdctl()
    {
        var save = await f.EtcdctlAsync(["snapshot", "save", P("etcd.db")]);
        Assert.Equal(0, save.ExitCode);
        Directory.CreateDirectory(P("exists"));
        string[][] cases =
        [
            ["--name", "x"],
            ["--initial-advertise-peer-urls", "http://127.0.0.1:9999"],
            ["--initial-cluster", "a=http://127.0.0.1:1,a=http://127.0.0.1:2", "--name", "a", "--initial-advertise-peer-urls", "http://127.0.0.1:1"],
            ["--data-dir", P("exists")],
        ];
        foreach (var c in cases)
        {
            var args = new[] { "snapshot", "restore", P("etcd.db") }.Concat(c).ToArray();
            if (!c.Contains("--data-dir"))
            {
                args = [.. args, "--data-dir", P("never")];
            }
            await f.SameAsync(args);
            Assert.False(Directory.Exists(P("never")));
        }
    }

    [Fact]
    public async Task Save_restore_and_start_a_ketch_member_from_it()
    {
        await using var source = await KetchClusterProvider.Instance.StartAsync(1);
        var ep = source.Endpoints[0];
        Task<Run> Ketchctl(params string[] args) => KetchctlOn(ep, args);
        await Ketchctl("put", "r/a", "1");
        await Ketchctl("put", "r/b", "two");
        await Ketchctl("put", "r/a", "3");
        var lease = (await Ketchctl("lease", "grant", "900")).Stdout.Split(' ')[1];
        await Ketchctl("put", "r/leased", "x", "--lease", lease);
        var before = await Ketchctl("get", "r/", "--prefix", "-w", "json");
        var revision = long.Parse(Regex.Match(before.Stdout, "\"revision\":(\\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var oldMembers = await Ketchctl("member", "list", "-w", "json");

        var saved = await Ketchctl("snapshot", "save", P("k.snap"));
        Assert.Equal((0, $"Snapshot saved at {P("k.snap")}\n"), (saved.ExitCode, saved.Stdout));
        Assert.Equal(32, new FileInfo(P("k.snap")).Length % 512);

        // Status: the same facts in every format.
        var json = (await Ketchctl("snapshot", "status", P("k.snap"), "-w", "json")).Stdout;
        var m = Regex.Match(json, "^\\{\"hash\":(\\d+),\"revision\":(\\d+),\"totalKey\":(\\d+),\"totalSize\":(\\d+)\\}\n$");
        Assert.True(m.Success, json);
        Assert.Equal(revision, long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(new FileInfo(P("k.snap")).Length - 32, long.Parse(m.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture));
        var hash = uint.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var simple = (await Ketchctl("snapshot", "status", P("k.snap"))).Stdout;
        Assert.Matches($"^{hash:x}, {revision}, {m.Groups[3].Value}, \\d+(\\.\\d)? [kM]?B\n$", simple);
        var fields = (await Ketchctl("snapshot", "status", P("k.snap"), "-w", "fields")).Stdout;
        Assert.Equal($"\"Hash\" : {hash}\n\"Revision\" : {revision}\n\"Keys\" : {m.Groups[3].Value}\n\"Size\" : {m.Groups[4].Value}\n", fields);
        // The hash column is as wide as the hash's hex digits (fewer than 8 when it has leading zeros).
        Assert.Matches(@"\| +HASH +\| REVISION \| TOTAL KEYS \| TOTAL SIZE \|", (await Ketchctl("snapshot", "status", P("k.snap"), "-w", "table")).Stdout);

        // Restore refuses a damaged file, a file without its hash, an existing directory.
        var bytes = File.ReadAllBytes(P("k.snap"));
        var damaged = (byte[])bytes.Clone();
        damaged[20] ^= 0xFF;
        File.WriteAllBytes(P("damaged.snap"), damaged);
        var bad = await Ketchctl("snapshot", "restore", P("damaged.snap"), "--data-dir", P("bad"));
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("Error: expected sha256 [", bad.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(P("bad")));
        File.WriteAllBytes(P("nohash.snap"), bytes[..^32]);
        var nohash = await Ketchctl("snapshot", "restore", P("nohash.snap"), "--data-dir", P("bad"));
        Assert.Equal((1, "Error: snapshot missing hash but --skip-hash-check=false\n"), (nohash.ExitCode, nohash.Stderr));

        // The stream without its hash restores with --skip-hash-check (as a db copied from a data dir in etcd).
        // The restored member gets a loopback address of its own: other tests start members on
        // 127.0.0.1 in parallel, and a port freed for us there can be taken before our member binds
        // it (a get then answered by another test's member, with none of our keys).
        var host = $"127.0.0.{Random.Shared.Next(100, 250)}";
        var peer = $"http://{host}:{Tools.FreePort(host)}";
        var restored = await Ketchctl("snapshot", "restore", P("nohash.snap"), "--data-dir", P("new.ketch"), "--name", "restored",
            "--initial-cluster", $"restored={peer}", "--initial-advertise-peer-urls", peer, "--initial-cluster-token", "restored-token", "--skip-hash-check");
        Assert.True(restored.ExitCode == 0, restored.Stderr);
        Assert.Equal("", restored.Stdout);
        var again = await Ketchctl("snapshot", "restore", P("k.snap"), "--data-dir", P("new.ketch"), "--name", "restored",
            "--initial-cluster", $"restored={peer}", "--initial-advertise-peer-urls", peer);
        Assert.Equal((1, $"Error: data-dir \"{P("new.ketch")}\" exists\n"), (again.ExitCode, again.Stderr));

        // A ketch process started from it (no cluster flags needed: the WAL has them) serves the keys.
        var client = $"{host}:{Tools.FreePort(host)}";
        using var member = StartKetch(P("new.ketch"), "restored", $"http://{client}", peer);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            Run got;
            while ((got = await KetchctlOn(client, "get", "r/", "--prefix", "-w", "json", "--command-timeout=2s")).ExitCode != 0)
            {
                Assert.True(DateTime.UtcNow < deadline && !member.HasExited, $"restored member never served: {got.Stderr}");
                await Task.Delay(100);
            }
            static string Kvs(string s) => Regex.Match(s, "\"kvs\":\\[.*\\]").Value;
            Assert.Equal(Kvs(before.Stdout), Kvs(got.Stdout));
            Assert.Contains($"\"revision\":{revision},", got.Stdout, StringComparison.Ordinal);
            Assert.Contains(lease, (await KetchctlOn(client, "lease", "list")).Stdout, StringComparison.Ordinal);
            var members = (await KetchctlOn(client, "member", "list")).Stdout;
            Assert.Matches($"^[0-9a-f]+, started, restored, {peer}, http://{client}, false\n$", members);
            var newMembers = await KetchctlOn(client, "member", "list", "-w", "json");
            string Cluster(string s) => Regex.Match(s, "\"cluster_id\":(\\d+)").Groups[1].Value;
            Assert.NotEqual(Cluster(oldMembers.Stdout), Cluster(newMembers.Stdout));
            var put = await KetchctlOn(client, "put", "r/new", "after", "-w", "json");
            Assert.Contains($"\"revision\":{revision + 1},", put.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            member.Kill();
            await member.WaitForExitAsync();
        }
    }

    private static async Task<Run> KetchctlOn(string endpoint, params string[] args)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        var rc = await Runner.RunAsync(["--endpoints=" + endpoint, .. args], o, e, new StringReader(""), new Dictionary<string, string>(), default);
        return new Run(o.ToString(), e.ToString(), rc);
    }

    private Process StartKetch(string dataDir, string name, string clientUrl, string peerUrl)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
        {
            KetchClusterProvider.KetchDll, "--name", name, "--data-dir", dataDir,
            "--listen-client-urls", clientUrl, "--advertise-client-urls", clientUrl,
            "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
        })
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }
}
