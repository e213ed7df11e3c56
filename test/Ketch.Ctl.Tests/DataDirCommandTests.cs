using System.Diagnostics;
using Ketch.Api.Etcdserverpb;
using Ketch.Client;
using Ketch.Server;
using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary>The commands that work on a data directory without a server: <c>defrag --data-dir</c> (a full compaction of
/// a stopped member's RocksDB backend; the member restarts with the same data) and <c>migrate</c> (a ketch data
/// directory has no v2 keys: ketchctl says what etcdctl says on an etcd data directory without any).</summary>
public sealed class DataDirCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ketchctl-datadir-").FullName;
    private readonly string _client = $"http://127.0.0.1:{Tools.FreePort()}";
    private readonly string _peer = $"http://127.0.0.1:{Tools.FreePort()}";

    private string DataDir => Path.Combine(_root, "m.ketch");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<KetchServer> StartMemberAsync()
    {
        var server = new KetchServer(new KetchServerOptions
        {
            Name = "m",
            DataDir = DataDir,
            ListenClientUrls = [_client],
            AdvertiseClientUrls = [_client],
            ListenPeerUrls = [_peer],
            InitialAdvertisePeerUrls = [_peer],
            HeartbeatIntervalMs = 50,
            ElectionTimeoutMs = 500,
        });
        await server.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await server.WaitForLeaderAsync(cts.Token);
        return server;
    }

    /// <summary>Every key at the latest revision, and that revision.</summary>
    private async Task<RangeResponse> DumpAsync()
    {
        using var client = new KetchClient(new KetchClientOptions { Endpoints = [_client] });
        return await client.Kv.GetAsync(KeyRange.FromKeyEnd, new GetOptions { FromKey = true });
    }

    [Fact]
    public async Task Defrag_data_dir_compacts_a_stopped_members_backend_which_restarts_with_the_same_data()
    {
        RangeResponse before;
        await using (var member = await StartMemberAsync())
        {
            using var client = new KetchClient(new KetchClientOptions { Endpoints = [_client] });
            // Garbage for a compaction to drop, more than a memtable (16 MiB) so that it reaches SST files: 30 versions of
            // 200 keys of 5 KB (random, so compression does not hide it), half the keys deleted, the history compacted.
            for (var round = 0; round < 30; round++)
            {
                for (var i = 0; i < 200; i += 50)
                {
                    await client.Kv.Txn().Then([.. Enumerable.Range(i, 50).Select(j => Op.Put($"k/{j:D3}", Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2500))))])
                        .CommitAsync();
                }
            }
            var deleted = await client.Kv.DeleteAsync("k/1", new DeleteOptions { Prefix = true });
            Assert.Equal(100, deleted.Deleted);
            await client.Kv.CompactAsync(deleted.Header.Revision, physical: true);
            before = await DumpAsync();

            // A running member holds the backend's lock: refused at once (etcdctl would wait for it).
            var locked = await Clis.KetchctlAsync(["defrag", "--data-dir", DataDir]);
            var kv = Path.Combine(DataDir, "member", "kv");
            Assert.Equal((1, "", $"Failed to defragment etcd data[{DataDir}] ({kv} is locked by a running member; to defrag a running member, omit --data-dir)\n"),
                (locked.ExitCode, locked.Stdout, locked.Stderr));
        }

        var sstBefore = SstBytes();
        Assert.True(sstBefore > 10_000_000, $"only {sstBefore} bytes of SST files to compact");
        // As etcdctl 3.4.23: nothing printed on success.
        var run = await Clis.KetchctlAsync(["defrag", "--data-dir", DataDir]);
        Assert.Equal((0, "", ""), (run.ExitCode, run.Stdout, run.Stderr));
        // What is left: the 100 live keys' last versions (~500 KB) in one file of the bottom level.
        Assert.Single(Directory.GetFiles(Path.Combine(DataDir, "member", "kv"), "*.sst"));
        Assert.True(SstBytes() < 2_000_000, $"{SstBytes()} bytes of SST files left of {sstBefore}");

        await using (await StartMemberAsync())
        {
            var after = await DumpAsync();
            Assert.Equal(before.Header.Revision, after.Header.Revision);
            Assert.Equal(100, after.Kvs.Count);
            Assert.Equal(before.Kvs, after.Kvs);
        }
    }

    private long SstBytes() => Directory.GetFiles(Path.Combine(DataDir, "member", "kv"), "*.sst").Sum(f => new FileInfo(f).Length);

    [Fact]
    public async Task Defrag_data_dir_refuses_what_is_not_a_ketch_data_dir()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        var etcd = Path.Combine(_root, "etcd");
        Directory.CreateDirectory(Path.Combine(etcd, "member", "snap"));
        File.WriteAllText(Path.Combine(etcd, "member", "snap", "db"), "bbolt");
        var missing = Path.Combine(_root, "missing");
        (string Dir, string Why)[] cases =
        [
            (empty, $"{empty} is not a ketch data directory: {Path.Combine(empty, "member", "kv")} holds no backend"),
            (missing, $"{missing} is not a ketch data directory: {Path.Combine(missing, "member", "kv")} holds no backend"),
            (etcd, $"{etcd} is an etcd data directory (member/snap/db): ketchctl defragments ketch data directories only"),
        ];
        foreach (var (dir, why) in cases)
        {
            var run = await Clis.KetchctlAsync(["defrag", "--data-dir", dir]);
            Assert.Equal((1, "", $"Failed to defragment etcd data[{dir}] ({why})\n"), (run.ExitCode, run.Stdout, run.Stderr));
        }
        // Nothing made where there was nothing.
        Assert.Empty(Directory.GetFileSystemEntries(empty));
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task Migrate_says_a_ketch_data_dir_has_no_v2_keys_as_etcdctl_says_of_a_v3_only_etcd_one()
    {
        await (await StartMemberAsync()).DisposeAsync();
        var etcdDir = await EtcdDataDirAsync();

        var etcdctl = await Clis.EtcdctlAsync(["migrate", "--data-dir", etcdDir]);
        var ketchctl = await Clis.KetchctlAsync(["migrate", "--data-dir", DataDir]);
        Assert.Equal((0, "using default transformer\nno v2 keys to migrate\n"), (etcdctl.ExitCode, NoLogs(etcdctl.Stdout)));
        Assert.Equal((0, "using default transformer\nno v2 keys to migrate\n", ""), (ketchctl.ExitCode, ketchctl.Stdout, ketchctl.Stderr));
        // A transformer program of one's own: no "default" line (and nothing to run it on).
        var own = await Clis.KetchctlAsync(["migrate", "--data-dir", DataDir, "--transformer", "/bin/false"]);
        Assert.Equal((0, "no v2 keys to migrate\n"), (own.ExitCode, own.Stdout));

        // Not a data directory: the same shape as etcdctl's failure, with the path each looked for.
        var missing = Path.Combine(_root, "missing");
        etcdctl = await Clis.EtcdctlAsync(["migrate", "--data-dir", missing]);
        ketchctl = await Clis.KetchctlAsync(["migrate", "--data-dir", missing]);
        Assert.Equal((1, "using default transformer\n", $"Error: open {missing}/member/snap: no such file or directory\n"),
            (etcdctl.ExitCode, NoLogs(etcdctl.Stdout), etcdctl.Errors));
        Assert.Equal((1, "using default transformer\n", $"Error: open {missing}/member/kv: no such file or directory\n"),
            (ketchctl.ExitCode, ketchctl.Stdout, ketchctl.Stderr));

        // An etcd data directory: its v2 store is etcd's to migrate.
        ketchctl = await Clis.KetchctlAsync(["migrate", "--data-dir", etcdDir]);
        Assert.Equal((1, $"Error: {etcdDir} is an etcd data directory: ketchctl cannot read etcd's v2 store (migrate it with etcdctl 3.4)\n"),
            (ketchctl.ExitCode, ketchctl.Stderr));
    }

    /// <summary>etcdctl writes its zap log lines to stdout here.</summary>
    private static string NoLogs(string stdout) => string.Concat(stdout.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("{\"level\"", StringComparison.Ordinal)).Select(l => l + "\n"));

    /// <summary>The data directory of a real etcd that served a v3 write and was then stopped.</summary>
    private async Task<string> EtcdDataDirAsync()
    {
        var dir = Path.Combine(_root, "e1.etcd");
        var (client, peer) = ($"http://127.0.0.1:{Tools.FreePort()}", $"http://127.0.0.1:{Tools.FreePort()}");
        var psi = new ProcessStartInfo(Tools.Require("etcd", "etcd-server")) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
        {
            "--name", "e1", "--data-dir", dir, "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", $"e1={peer}",
        })
        {
            psi.ArgumentList.Add(a);
        }
        using var etcd = Process.Start(psi)!;
        etcd.OutputDataReceived += (_, _) => { };
        etcd.ErrorDataReceived += (_, _) => { };
        etcd.BeginOutputReadLine();
        etcd.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            Run put;
            while ((put = await Clis.KetchctlAsync(["--endpoints", client, "put", "v3", "only", "--command-timeout=1s"])).ExitCode != 0)
            {
                Assert.True(DateTime.UtcNow < deadline && !etcd.HasExited, $"etcd never served: {put.Stderr}");
                await Task.Delay(100);
            }
        }
        finally
        {
            etcd.Kill();
            await etcd.WaitForExitAsync();
        }
        return dir;
    }
}
