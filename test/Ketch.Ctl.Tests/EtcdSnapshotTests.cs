using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Ketch.Api.Etcdserverpb;
using Ketch.Client;
using Ketch.Server.Api;
using Ketch.Server.Snapshots;
using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary>
/// etcd-format snapshots and etcd's HashKV, checked against real etcd 3.4: the same history written
/// to ketch and to etcd gives equal HashKV answers; a ketch snapshot saved by stock etcdctl passes
/// <c>etcdctl snapshot status</c> (bbolt's consistency check included) and restores into an etcd
/// member serving the same data; an etcd snapshot restored by ketchctl starts a ketch member serving
/// the same data. The bbolt writer is checked by bbolt itself (etcdctl's status runs tx.Check).
/// </summary>
public sealed class EtcdSnapshotTests : IDisposable
{
    private const long LeaseId = 0x7001;
    private readonly string _dir = Directory.CreateTempSubdirectory("ketch-etcdsnap-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>Writes the same history anywhere: puts, a lease with keys, a txn, deletions, a
    /// compaction in the middle, a value larger than a bbolt page, auth users and roles (auth stays
    /// off). Returns the compacted revision.</summary>
    private static async Task<long> WriteHistoryAsync(string endpoint)
    {
        using var c = new KetchClient(endpoint);
        await c.Kv.PutAsync("k/a", "1");
        await c.Kv.PutAsync("k/b", "2");
        await c.Kv.PutAsync("k/a", "3");
        await c.Lease.GrantAsync(600, LeaseId);
        await c.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k/leased"), Value = ByteString.CopyFromUtf8("x"), Lease = LeaseId });
        await c.Kv.TxnAsync(new TxnRequest
        {
            Success =
            {
                new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("k/c"), Value = ByteString.CopyFromUtf8("c") } },
                new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("k/d"), Value = ByteString.CopyFromUtf8("d") } },
                new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("k/b") } },
            },
        });
        await c.Kv.DeleteAsync("k/a");
        var compactAt = (await c.Kv.PutAsync("k/a", "again")).Header.Revision;
        await c.Kv.PutAsync("k/c", "c2");
        // Physical: etcd deletes the compacted records in the background and its HashKV reads them
        // until its next backend commit (up to 100 ms later); where the keep set is empty (every key
        // deleted) etcd hashes those records, so only after a physical compaction is its hash settled.
        await c.Kv.CompactAsync(compactAt, physical: true);
        await c.Kv.PutAsync("k/big", new string('v', 10_000));
        await c.Kv.DeleteAsync("k/c");
        foreach (var args in new[]
        {
            "user add alice --new-user-password=secret", "role add reader", "role grant-permission reader read k/ --prefix",
            "user grant-role alice reader",
        })
        {
            var r = await Clis.EtcdctlAsync(["--endpoints", endpoint, .. args.Split(' ')]);
            Assert.True(r.ExitCode == 0, r.Stderr);
        }
        return compactAt;
    }

    /// <summary>Every HashKV answer from the compacted revision to one past the current one.</summary>
    private static async Task<List<string>> HashesAsync(string endpoint, long compacted, long current)
    {
        using var c = new KetchClient(endpoint);
        var answers = new List<string>();
        for (var rev = compacted; rev <= current + 1; rev++)
        {
            answers.Add(await HashAsync(c, rev));
        }
        answers.Add(await HashAsync(c, 0));
        return answers;
    }

    private static async Task<string> HashAsync(KetchClient c, long rev)
    {
        try
        {
            var h = await c.Maintenance.HashKvAsync(rev);
            return $"rev {rev}: hash {h.Hash} compact {h.CompactRevision} header {h.Header.Revision}";
        }
        catch (Grpc.Core.RpcException e)
        {
            return $"rev {rev}: {e.StatusCode} {e.Status.Detail}";
        }
    }

    private static async Task<long> RevisionAsync(string endpoint)
    {
        using var c = new KetchClient(endpoint);
        return (await c.Kv.GetAsync("k/a")).Header.Revision;
    }

    [Fact]
    public async Task HashKV_equals_etcds_for_the_same_history()
    {
        await using var ketch = await KetchClusterProvider.Instance.StartAsync(1);
        await using var etcd = await EtcdClusterProvider.Instance.StartAsync(1);
        var k = ketch.Endpoints[0];
        var e = etcd.Endpoints[0];
        // Never compacted: compact_revision -1 on both.
        using (var kc = new KetchClient(k))
        using (var ec = new KetchClient(e))
        {
            Assert.Equal(await HashAsync(ec, 0), await HashAsync(kc, 0));
        }
        var compacted = await WriteHistoryAsync(k);
        Assert.Equal(compacted, await WriteHistoryAsync(e));
        var current = await RevisionAsync(k);
        Assert.Equal(current, await RevisionAsync(e));
        Assert.Equal(await HashesAsync(e, compacted, current), await HashesAsync(k, compacted, current));

        // Every key deleted: etcd's keep set at the new revision is empty, and it then hashes the
        // records at or below the compacted revision too.
        foreach (var ep in new[] { k, e })
        {
            using var c = new KetchClient(ep);
            await c.Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0) });
        }
        Assert.Equal(await HashesAsync(e, compacted, current + 1), await HashesAsync(k, compacted, current + 1));

        // Compacted at a revision that deleted keys: etcd drops those tombstones.
        foreach (var ep in new[] { k, e })
        {
            using var c = new KetchClient(ep);
            await c.Kv.PutAsync("k/last", "1");
            await c.Kv.CompactAsync(current + 1, physical: true);
        }
        Assert.Equal(await HashesAsync(e, current + 1, current + 2), await HashesAsync(k, current + 1, current + 2));
    }

    [Fact]
    public async Task Etcdctl_saves_a_ketch_snapshot_that_etcd_restores_and_serves()
    {
        await using var ketch = await KetchClusterProvider.Instance.StartAsync(1);
        var k = ketch.Endpoints[0];
        var compacted = await WriteHistoryAsync(k);
        var current = await RevisionAsync(k);

        var save = await Clis.EtcdctlAsync(["--endpoints", k, "snapshot", "save", P("k.db")]);
        Assert.True(save.ExitCode == 0, save.Stderr);
        var status = await Clis.EtcdctlAsync(["snapshot", "status", P("k.db"), "-w", "json"]);
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.Matches($"^{{\"hash\":\\d+,\"revision\":{current},\"totalKey\":\\d+,\"totalSize\":{new FileInfo(P("k.db")).Length - 32}}}\n$", status.Stdout);
        Assert.Equal(status.Stdout, (await Clis.KetchctlAsync(["snapshot", "status", P("k.db"), "-w", "json"])).Stdout);

        var peer = $"http://127.0.0.1:{Tools.FreePort()}";
        var restore = await Clis.EtcdctlAsync(["snapshot", "restore", P("k.db"), "--data-dir", P("etcd.restored"), "--name", "r",
            "--initial-cluster", $"r={peer}", "--initial-advertise-peer-urls", peer]);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        var client = $"127.0.0.1:{Tools.FreePort()}";
        await using var restored = await Served.StartAsync(Served.EtcdCommand(P("etcd.restored"), "r", client, peer), client);
        await AssertSameDataAsync(k, client, compacted, current);

        // alice's hash, made by ketch, reaches etcd byte for byte and etcd accepts her password.
        var save2 = await Clis.EtcdctlAsync(["--endpoints", client, "snapshot", "save", P("e.db")]);
        Assert.True(save2.ExitCode == 0, save2.Stderr);
        Assert.StartsWith("$2a$", AliceHash(P("k.db")), StringComparison.Ordinal);
        Assert.Equal(AliceHash(P("k.db")), AliceHash(P("e.db")));
        await AssertAliceLogsInAsync(client);
    }

    [Fact]
    public async Task Ketchctl_restores_an_etcd_snapshot_into_a_ketch_member()
    {
        await using var etcd = await EtcdClusterProvider.Instance.StartAsync(1);
        var e = etcd.Endpoints[0];
        var compacted = await WriteHistoryAsync(e);
        var current = await RevisionAsync(e);
        var save = await Clis.EtcdctlAsync(["--endpoints", e, "snapshot", "save", P("e.db")]);
        Assert.True(save.ExitCode == 0, save.Stderr);

        var peer = $"http://127.0.0.1:{Tools.FreePort()}";
        var restore = await Clis.KetchctlAsync(["snapshot", "restore", P("e.db"), "--data-dir", P("ketch.restored"), "--name", "r",
            "--initial-cluster", $"r={peer}", "--initial-advertise-peer-urls", peer]);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        var client = $"127.0.0.1:{Tools.FreePort()}";
        await using var restored = await Served.StartAsync(Served.KetchCommand(P("ketch.restored"), "r", client, peer), client);
        await AssertSameDataAsync(e, client, compacted, current);
        var members = await Clis.EtcdctlAsync(["--endpoints", client, "member", "list"]);
        Assert.Matches($"^[0-9a-f]+, started, r, {peer}, http://{client}, false\n$", members.Stdout);

        // alice's hash, made by etcd's Go bcrypt, reaches ketch byte for byte and ketch accepts her password.
        var save2 = await Clis.EtcdctlAsync(["--endpoints", client, "snapshot", "save", P("k.db")]);
        Assert.True(save2.ExitCode == 0, save2.Stderr);
        Assert.StartsWith("$2a$", AliceHash(P("e.db")), StringComparison.Ordinal);
        Assert.Equal(AliceHash(P("e.db")), AliceHash(P("k.db")));
        await AssertAliceLogsInAsync(client);
    }

    /// <summary>The password field of alice's authpb.User in a snapshot's authUsers bucket.</summary>
    private static string AliceHash(string snapshot)
    {
        using var file = new FileStream(snapshot, FileMode.Open, FileAccess.Read);
        var bolt = BoltReader.Open(file);
        var alice = bolt.Entries("authUsers"u8.ToArray()).Single(e => e.Key.AsSpan().SequenceEqual("alice"u8));
        return Ketch.Api.Authpb.User.Parser.ParseFrom(alice.Value).Password.ToStringUtf8();
    }

    /// <summary>On a restored member: enables auth (root is added here, with a hash of this member's
    /// own) and logs alice in with the password she was given on the source member, through stock
    /// etcdctl; a wrong password is refused as etcd refuses it.</summary>
    private static async Task AssertAliceLogsInAsync(string endpoint)
    {
        foreach (var args in new[] { "user add root --new-user-password=rootpw", "user grant-role root root", "auth enable" })
        {
            var r = await Clis.EtcdctlAsync(["--endpoints", endpoint, .. args.Split(' ')]);
            Assert.True(r.ExitCode == 0, r.Stderr);
        }
        var ok = await Clis.EtcdctlAsync(["--endpoints", endpoint, "--user", "alice:secret", "get", "k/a", "--print-value-only"]);
        Assert.Equal((0, "again\n", ""), (ok.ExitCode, ok.Stdout, ok.Errors));
        var wrong = await Clis.EtcdctlAsync(["--endpoints", endpoint, "--user", "alice:Secret", "get", "k/a"]);
        // etcdctl fails to make its client: exit 2, its ExitBadConnection.
        Assert.Equal((2, "Error: etcdserver: authentication failed, invalid user ID or password\n"), (wrong.ExitCode, wrong.Errors));
    }

    /// <summary>The source and the restored member answer alike: keys now and at a past revision,
    /// the compaction, the lease and its keys, users and roles, and HashKV at every revision.</summary>
    private static async Task AssertSameDataAsync(string source, string restored, long compacted, long current)
    {
        static string NoHeader(string json) => Regex.Replace(json, "\"header\":\\{[^}]*\\},?", "");
        foreach (var args in new[]
        {
            "get k/ --prefix -w json", $"get k/ --prefix -w json --rev {compacted}", $"get k/ --prefix --rev {compacted - 1}",
            $"lease timetolive {LeaseId:x} --keys", "user get alice", "role get reader", "user list", "role list",
        })
        {
            var want = await Clis.EtcdctlAsync(["--endpoints", source, .. args.Split(' ')]);
            var got = await Clis.EtcdctlAsync(["--endpoints", restored, .. args.Split(' ')]);
            // The remaining TTL of the lease goes down with time: compare what it is, not when.
            static string Stable(string s) => Regex.Replace(NoHeader(s), "remaining\\(\\d+s\\)", "remaining(_)");
            Assert.Equal((want.ExitCode, Stable(want.Stdout), want.Errors), (got.ExitCode, Stable(got.Stdout), got.Errors));
        }
        Assert.Contains($"\"revision\":{current},", (await Clis.EtcdctlAsync(["--endpoints", restored, "get", "k/a", "-w", "json"])).Stdout, StringComparison.Ordinal);
        Assert.Equal(await HashesAsync(source, compacted, current), await HashesAsync(restored, compacted, current));
    }

    [Fact]
    public async Task Bolt_writer_output_passes_bbolts_check_and_reads_back()
    {
        // Enough keys for two branch levels in one bucket, values larger than a page (overflow
        // pages), an empty bucket and small inline ones; names and keys in byte order.
        var random = new Random(7);
        var buckets = new SortedDictionary<string, List<(byte[] Key, byte[] Value)>>(StringComparer.Ordinal)
        {
            ["big"] = [.. Enumerable.Range(0, 60_000).Select(i => (System.Text.Encoding.ASCII.GetBytes($"key/{i:D8}/{new string('k', i % 40)}"),
                random.Next(100) == 0 ? RandomNumberGenerator.GetBytes(random.Next(4_000, 20_000)) : RandomNumberGenerator.GetBytes(random.Next(0, 60))))],
            ["empty"] = [],
            ["small"] = [("a"u8.ToArray(), "1"u8.ToArray()), ("b"u8.ToArray(), [])],
        };
        uint crc = 0;
        long keys = 0;
        long size;
        await using (var file = new FileStream(P("w.db"), FileMode.CreateNew, FileAccess.ReadWrite))
        {
            var bolt = new BoltWriter(file);
            foreach (var (name, entries) in buckets)
            {
                var nameBytes = System.Text.Encoding.ASCII.GetBytes(name);
                crc = Crc32Castagnoli.Append(crc, nameBytes);
                bolt.BeginBucket(nameBytes);
                foreach (var (key, value) in entries)
                {
                    bolt.Put(key, value);
                    crc = Crc32Castagnoli.Append(Crc32Castagnoli.Append(crc, key), value);
                    keys++;
                }
                bolt.EndBucket();
            }
            size = bolt.Finish();
            Assert.Equal(size, file.Length);
            file.Position = 0;
            var sha = await SHA256.HashDataAsync(file);
            file.Write(sha);
        }

        var status = await Clis.EtcdctlAsync(["snapshot", "status", P("w.db"), "-w", "json"]);
        Assert.Equal($"{{\"hash\":{crc},\"revision\":0,\"totalKey\":{keys},\"totalSize\":{size}}}\n", status.Stdout);
        Assert.Equal(status.Stdout, (await Clis.KetchctlAsync(["snapshot", "status", P("w.db"), "-w", "json"])).Stdout);

        using var read = new FileStream(P("w.db"), FileMode.Open, FileAccess.Read);
        var reader = BoltReader.Open(read);
        Assert.Equal(buckets.Keys, reader.Buckets().Select(b => System.Text.Encoding.ASCII.GetString(b.Key)));
        foreach (var (name, entries) in buckets)
        {
            var got = reader.Entries(System.Text.Encoding.ASCII.GetBytes(name)).ToList();
            Assert.Equal(entries.Count, got.Count);
            Assert.True(entries.Zip(got).All(p => p.First.Key.AsSpan().SequenceEqual(p.Second.Key) && p.First.Value.AsSpan().SequenceEqual(p.Second.Value)), name);
        }
        // Out of order input is refused, not written into a tree bbolt cannot search.
        using var other = new MemoryStream();
        var w = new BoltWriter(other);
        w.BeginBucket("x"u8);
        w.Put("b"u8, []);
        Assert.Throws<ArgumentException>(() => w.Put("a"u8, []));
    }

    [Fact]
    public async Task A_damaged_etcd_snapshot_is_refused_and_leaves_nothing_behind()
    {
        await using var ketch = await KetchClusterProvider.Instance.StartAsync(1);
        await WriteHistoryAsync(ketch.Endpoints[0]);
        var save = await Clis.EtcdctlAsync(["--endpoints", ketch.Endpoints[0], "snapshot", "save", P("k.db")]);
        Assert.True(save.ExitCode == 0, save.Stderr);
        var bytes = File.ReadAllBytes(P("k.db"));
        var peer = $"http://127.0.0.1:{Tools.FreePort()}";
        string[] Restore(string file, params string[] more) => ["snapshot", "restore", file, "--data-dir", P("out"), "--name", "r",
            "--initial-cluster", $"r={peer}", "--initial-advertise-peer-urls", peer, .. more];

        // Truncated to whole pages plus a hash-sized tail: the hash no longer matches.
        File.WriteAllBytes(P("cut.db"), bytes[..(bytes.Length - 4096)]);
        var cut = await Clis.KetchctlAsync(Restore(P("cut.db")));
        Assert.Equal(1, cut.ExitCode);
        Assert.StartsWith("Error: expected sha256 [", cut.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(P("out")));

        // Without the hash check, the missing pages are found while reading: a clear error, no directory.
        File.WriteAllBytes(P("nohash.db"), bytes[..(bytes.Length - 32 - (2 * 4096))]);
        var broken = await Clis.KetchctlAsync(Restore(P("nohash.db"), "--skip-hash-check"));
        Assert.Equal(1, broken.ExitCode);
        Assert.Matches("^Error: page \\d+ (beyond the end of the file|out of bounds)", broken.Stderr);
        Assert.False(Directory.Exists(P("out")));

        // Damaged meta pages: bbolt's "invalid database".
        var meta = (byte[])bytes.Clone();
        meta[20] ^= 0xFF;
        meta[4096 + 20] ^= 0xFF;
        File.WriteAllBytes(P("meta.db"), meta[..^32]);
        var invalid = await Clis.KetchctlAsync(Restore(P("meta.db"), "--skip-hash-check"));
        Assert.Equal((1, "Error: invalid database\n"), (invalid.ExitCode, invalid.Stderr));
        Assert.False(Directory.Exists(P("out")));
    }

    /// <summary>A server process (etcd or ketch) on a restored data directory, killed on dispose.</summary>
    private sealed class Served : IAsyncDisposable
    {
        private readonly Process _process;

        private Served(Process process) => _process = process;

        public static string[] EtcdCommand(string dataDir, string name, string client, string peer) =>
            [Tools.Require("etcd", "etcd-server"), .. Flags(dataDir, name, client, peer)];

        public static string[] KetchCommand(string dataDir, string name, string client, string peer) =>
            ["dotnet", KetchClusterProvider.KetchDll, .. Flags(dataDir, name, client, peer)];

        private static string[] Flags(string dataDir, string name, string client, string peer) =>
        [
            "--name", name, "--data-dir", dataDir, "--listen-client-urls", $"http://{client}", "--advertise-client-urls", $"http://{client}",
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", $"{name}={peer}",
            "--heartbeat-interval", "50", "--election-timeout", "500",
        ];

        /// <summary>Starts the process and waits (30 s at most) until it serves a linearizable read.</summary>
        public static async Task<Served> StartAsync(string[] command, string client)
        {
            var psi = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in command[1..])
            {
                psi.ArgumentList.Add(a);
            }
            var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var p = Process.Start(psi)!;
            p.OutputDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
            p.ErrorDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            var served = new Served(p);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                var r = await Clis.EtcdctlAsync(["--endpoints", client, "--command-timeout=2s", "get", "health"]);
                if (r.ExitCode == 0)
                {
                    return served;
                }
                if (DateTime.UtcNow > deadline || p.HasExited)
                {
                    await served.DisposeAsync();
                    Assert.Fail($"{command[0]} on the restored directory never served: {r.Stderr}\n{string.Join('\n', log.TakeLast(30))}");
                }
                await Task.Delay(100);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
