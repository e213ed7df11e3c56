using System.Collections.Concurrent;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Ketch.Api.Etcdserverpb;
using Xunit.Abstractions;

namespace Ketch.Server.Tests;

/// <summary>
/// A Jepsen-style run in process: three members under a seeded nemesis (a partitioned leader, a
/// partitioned follower, one link cut, a member black-holed, the leader, a follower or both stopped
/// and restarted, a follower or the leader replaced by a new member; one fault at a time) while
/// clients append unique keys, read linearizably, compare-and-set a counter, hold leases, compact
/// the history behind the watch and watch everything from revision 1 through any member, moving on
/// errors. Afterwards the cluster is healed and the history checked: every acknowledged write is
/// on every member with its revision, nothing appears that was never written, linearizable reads
/// never went back in time, no two acknowledged compare-and-sets won from the same read, no
/// revision below an acknowledged compaction is readable, the watch saw exactly the final history
/// in order, and the members' HashKV and compacted revision agree. <c>KETCH_CHAOS_SECONDS</c> and
/// <c>KETCH_CHAOS_SEED</c> make longer or other runs by hand; CI runs the default seed for 20 s.
/// </summary>
public sealed class ChaosTests(ITestOutputHelper log)
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static readonly Metadata HasLeader = new() { { "hasleader", "true" } };

    /// <summary>What the clients saw: acknowledged, attempted, and the reads' checks.</summary>
    private sealed class History
    {
        private readonly Lock _lock = new();
        private long _maxAckedRevision;
        private int _ackedCount;

        public ConcurrentDictionary<string, long> Acked { get; } = new();
        public ConcurrentDictionary<string, bool> Attempted { get; } = new();
        public ConcurrentDictionary<long, bool> CasWins { get; } = new();
        public ConcurrentQueue<string> Violations { get; } = new();
        public long LeasesGranted;
        public long LeasesRevoked;
        public long KeepAlives;
        public long MaxCasAttempted;
        public long Indeterminate;
        public long Refused;
        public long Reads;
        public long Compactions;
        public long CompactionsAttempted;
        public long CompactedReads;
        public long MaxCompacted;

        /// <summary>The revision the watch asks for next: compactions stay at or below it.</summary>
        public long WatchNext = 1;

        public void Ack(string key, long revision)
        {
            lock (_lock)
            {
                Acked[key] = revision;
                _ackedCount++;
                _maxAckedRevision = Math.Max(_maxAckedRevision, revision);
            }
        }

        public (int Count, long Revision) Floor()
        {
            lock (_lock)
            {
                return (_ackedCount, _maxAckedRevision);
            }
        }
    }

    [Fact]
    public async Task Under_partitions_and_restarts_no_acknowledged_write_is_lost_and_the_members_agree()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("KETCH_CHAOS_SECONDS"), out var s) ? s : 20;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("KETCH_CHAOS_SEED"), out var sd) ? sd : 20261128;
        log.WriteLine($"seed {seed}, {seconds} s");
        await using var c = await TestCluster.StartAsync(3, partitionable: true, tweak: o => o with
        {
            RequestTimeout = TimeSpan.FromSeconds(2),
            // Restarted and partitioned members catch up by snapshot as well as by log.
            SnapshotCount = 300,
            SnapshotCatchUpEntries = 50,
        });
        await c.LeaderAsync();
        var channels = c.Members.Select(m => GrpcChannel.ForAddress(m.ClientUrl)).ToArray();
        try
        {
            var history = new History();
            using var stop = new CancellationTokenSource();
            var watched = new List<(string Key, long Revision)>();
            var workers = new List<Task>();
            for (var w = 0; w < 4; w++)
            {
                workers.Add(AppendAsync(w, channels, history, seed + w, stop.Token));
            }
            for (var r = 0; r < 2; r++)
            {
                workers.Add(ReadAsync(channels, history, seed + 10 + r, stop.Token));
            }
            workers.Add(CasAsync(channels, history, seed + 20, stop.Token));
            for (var l = 0; l < 2; l++)
            {
                workers.Add(LeaseAsync(l, channels, history, seed + 40 + l, stop.Token));
            }
            workers.Add(CompactAsync(channels, history, seed + 50, stop.Token));
            using var watchStop = new CancellationTokenSource();
            var watcher = WatchAsync(channels, watched, history, seed + 30, watchStop.Token);

            var faults = await NemesisAsync(c, new Random(seed), TimeSpan.FromSeconds(seconds));
            await stop.CancelAsync();
            await Task.WhenAll(workers);

            // Healed and all running: every lease was revoked or left to expire, so they all go
            // (the leader expires them once their TTL has passed under it).
            var leader = await c.LeaderAsync();
            await TestNet.WaitUntil(async () =>
                (await leader.Lease.LeaseLeasesAsync(new LeaseLeasesRequest())).Leases.Count == 0
                && (await leader.Kv.RangeAsync(new RangeRequest { Key = B("l/"), RangeEnd = B("l0"), CountOnly = true })).Count == 0,
                TimeSpan.FromSeconds(60), "every lease and its key to expire");
            // The members converge on one history.
            leader = await c.LeaderAsync();
            string State() => string.Join("; ", c.Members.Select(m => (m.Options.Name, L: m.Server.Loop)).Select(m =>
                $"{m.Name}: revision {m.L.Kv.CurrentRevision}, leader {m.L.Leader:x}, term {m.L.Term}, commit {m.L.CommitIndex}, applied {m.L.AppliedIndex}, failed {m.L.Failed?.Message ?? "no"}"));
            try
            {
                await TestNet.WaitUntil(() => c.Members.Select(m => m.Server.Loop.Kv.CurrentRevision).Distinct().Count() == 1
                    && c.Members.All(m => m.Server.Loop.Kv.CurrentRevision >= leader.Server.Loop.Kv.CurrentRevision),
                    TimeSpan.FromSeconds(60), "the members to reach the same revision");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}; faults {string.Join(", ", faults)}; {State()}", e);
            }
            var final = new List<Dictionary<string, long>>();
            foreach (var m in c.Members)
            {
                var all = await m.Kv.RangeAsync(new RangeRequest { Key = B("a/"), RangeEnd = B("a0"), Serializable = true });
                final.Add(all.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => kv.ModRevision));
            }
            var present = final[0];
            foreach (var (key, rev) in history.Acked)
            {
                if (!present.TryGetValue(key, out var got) || got != rev)
                {
                    history.Violations.Enqueue($"acknowledged {key} at revision {rev} is {(present.ContainsKey(key) ? $"at revision {got}" : "missing")}");
                }
            }
            foreach (var key in present.Keys.Where(k => !history.Attempted.ContainsKey(k)))
            {
                history.Violations.Enqueue($"{key} was never written");
            }
            for (var i = 1; i < final.Count; i++)
            {
                if (!final[i].OrderBy(p => p.Key).SequenceEqual(present.OrderBy(p => p.Key)))
                {
                    history.Violations.Enqueue($"member {i} holds other keys or revisions than member 0");
                }
            }
            var revision = c.Members[0].Server.Loop.Kv.CurrentRevision;
            var hashes = new HashSet<uint>();
            foreach (var m in c.Members)
            {
                hashes.Add((await m.Maintenance.HashKVAsync(new HashKVRequest { Revision = revision })).Hash);
            }
            if (hashes.Count != 1)
            {
                history.Violations.Enqueue($"HashKV differs at revision {revision}");
            }
            // A compaction changes no revision: the members may still be applying the last one.
            HashSet<long> Compacted() => c.Members.Select(m => m.Server.Loop.Kv.CompactRevision).ToHashSet();
            try
            {
                await TestNet.WaitUntil(() => Compacted().Count == 1, TimeSpan.FromSeconds(30), "the members to reach the same compacted revision");
            }
            catch (TimeoutException)
            {
            }
            if (Compacted() is var compacted && (compacted.Count != 1 || compacted.Single() < history.MaxCompacted))
            {
                history.Violations.Enqueue($"compacted revisions {string.Join(", ", compacted)} after compactions acknowledged up to {history.MaxCompacted}");
            }
            var cas = await c.Members[0].Kv.RangeAsync(new RangeRequest { Key = B("cas"), Serializable = true });
            var casValue = cas.Kvs.Count == 0 ? 0 : long.Parse(cas.Kvs[0].Value.ToStringUtf8(), System.Globalization.CultureInfo.InvariantCulture);
            if (history.CasWins.Keys.Any(v => v > casValue) || casValue > history.MaxCasAttempted)
            {
                history.Violations.Enqueue($"counter {casValue}: acknowledged up to {history.CasWins.Keys.DefaultIfEmpty().Max()}, attempted up to {history.MaxCasAttempted}");
            }

            // The watch, moved between members on errors, delivers exactly the final history.
            var expected = present.OrderBy(p => p.Value).Select(p => (p.Key, p.Value)).ToList();
            await TestNet.WaitUntil(() =>
            {
                lock (watched)
                {
                    return watched.Count >= expected.Count;
                }
            }, TimeSpan.FromSeconds(60), $"the watch to deliver {expected.Count} events");
            await watchStop.CancelAsync();
            await watcher;
            lock (watched)
            {
                if (!watched.SequenceEqual(expected))
                {
                    var at = Enumerable.Range(0, Math.Min(watched.Count, expected.Count)).FirstOrDefault(i => watched[i] != expected[i]);
                    history.Violations.Enqueue($"the watch saw {watched.Count} events, the history has {expected.Count}; first difference at {at}");
                }
            }

            foreach (var m in c.Members)
            {
                if ((await m.Lease.LeaseLeasesAsync(new LeaseLeasesRequest())).Leases.Count != 0
                    || (await m.Kv.RangeAsync(new RangeRequest { Key = B("l/"), RangeEnd = B("l0"), CountOnly = true, Serializable = true })).Count != 0)
                {
                    history.Violations.Enqueue($"{m.Options.Name} still holds leases or their keys after they expired on the leader");
                }
            }
            log.WriteLine($"faults: {string.Join(", ", faults)}");
            log.WriteLine($"appends acknowledged {history.Acked.Count}, attempted {history.Attempted.Count}, indeterminate {history.Indeterminate}, refused {history.Refused}; " +
                $"linearizable reads checked {history.Reads}; compare-and-sets won {history.CasWins.Count}; watch events {expected.Count}; final revision {revision}; " +
                $"leases granted {history.LeasesGranted}, kept alive {history.KeepAlives} times, revoked {history.LeasesRevoked}; " +
                $"compactions {history.Compactions} of {history.CompactionsAttempted} up to {history.MaxCompacted}, reads below them refused {history.CompactedReads}");
            Assert.True(history.Violations.IsEmpty, string.Join("\n", history.Violations.Take(20)));
            // The run did something under faults: writes went through and faults were injected.
            Assert.True(history.Acked.Count > 100, $"only {history.Acked.Count} appends were acknowledged");
            var injected = faults.Count(f => f != ReplacementRefused);
            Assert.True(injected >= 3, $"only {injected} faults were injected");
        }
        finally
        {
            foreach (var ch in channels)
            {
                ch.Dispose();
            }
        }
    }

    /// <summary>One fault at a time, held for 0.8-2.5 s, then healed (a stopped member started
    /// again) and 0.3-1 s of calm; returns what it did.</summary>
    private static async Task<List<string>> NemesisAsync(TestCluster c, Random random, TimeSpan duration)
    {
        var done = new List<string>();
        var end = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < end)
        {
            var leader = await c.LeaderAsync();
            var followers = c.Members.Where(m => m != leader).ToList();
            var follower = followers[random.Next(followers.Count)];
            var hold = TimeSpan.FromMilliseconds(random.Next(800, 2500));
            List<TestMember> stopped = [];
            switch (random.Next(8))
            {
                case 7:
                    // The leader too: it commits its own removal and steps down.
                    var replaced = random.Next(3) == 0 ? leader : follower;
                    done.Add(await ReplaceAsync(c, replaced == leader ? follower : leader, replaced)
                        ? $"{(replaced == leader ? "leader" : "follower")} replaced" : ReplacementRefused);
                    await Task.Delay(random.Next(300, 1000));
                    continue;
                case 0:
                    c.Partition(leader);
                    done.Add("leader partitioned");
                    break;
                case 1:
                    c.Partition(follower);
                    done.Add("follower partitioned");
                    break;
                case 2:
                    // A partial partition: the leader loses one follower, which still reaches the other.
                    c.Cut((leader, follower));
                    done.Add("leader-follower link cut");
                    break;
                case 3:
                    // A black hole: connections across the cut are accepted and never answered.
                    c.PartitionSilently(random.Next(2) == 0 ? leader : follower);
                    done.Add("member black-holed");
                    break;
                case 4:
                    stopped = [leader];
                    done.Add("leader restarted");
                    break;
                case 5:
                    // Quorum lost: nothing can commit until one of the two is back.
                    stopped = [leader, follower];
                    done.Add("two members restarted");
                    break;
                default:
                    stopped = [follower];
                    done.Add("follower restarted");
                    break;
            }
            foreach (var m in stopped)
            {
                await m.StopAsync();
            }
            await Task.Delay(hold);
            c.Heal();
            foreach (var m in stopped)
            {
                await m.StartFromDiskAsync();
            }
            await Task.Delay(random.Next(300, 1000));
        }
        c.Heal();
        return done;
    }

    private const string ReplacementRefused = "replacement refused";

    /// <summary>
    /// Membership changes under load: <paramref name="old"/> is removed through
    /// <paramref name="via"/> (another member), stopped and its data deleted; a new member on its
    /// addresses is added as a learner, started empty (it catches up by snapshot) and promoted once
    /// in sync, as an operator replaces a failed member. Returns false if the removal was refused (etcd's strict reconfiguration check: a
    /// member that rejoined recently does not count as active yet) and nothing changed.
    /// </summary>
    private static async Task<bool> ReplaceAsync(TestCluster c, TestMember via, TestMember old)
    {
        var id = old.Server.MemberId;
        var peer = old.Options.InitialAdvertisePeerUrls[0];
        var refusedUntil = DateTime.UtcNow.AddSeconds(8);
        if (!await RetryAsync(async () =>
            {
                try
                {
                    await via.Cluster.MemberRemoveAsync(new MemberRemoveRequest { ID = id }, deadline: DateTime.UtcNow.AddSeconds(5));
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
                {
                    // An attempt whose answer was lost went through.
                }
                return true;
            }, e => e.Status.Detail is "etcdserver: unhealthy cluster" or "etcdserver: re-configuration failed due to not enough started members"
                && DateTime.UtcNow > refusedUntil))
        {
            return false;
        }
        await old.StopAsync();
        Directory.Delete(old.Options.DataDir, recursive: true);
        var added = await RetryAsync(async () =>
        {
            try
            {
                var r = await via.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { peer }, IsLearner = true }, deadline: DateTime.UtcNow.AddSeconds(5));
                return (Id: r.Member.ID, Members: r.Members.ToList());
            }
            catch (RpcException e) when (e.Status.Detail == "etcdserver: Peer URLs already exists")
            {
                var members = (await via.Cluster.MemberListAsync(new MemberListRequest { Linearizable = true }, deadline: DateTime.UtcNow.AddSeconds(5))).Members.ToList();
                return (Id: members.Single(m => m.PeerURLs.Contains(peer)).ID, Members: members);
            }
        }, _ => false);
        var name = old.Options.Name;
        var replacement = TestMember.Create(old.Options with
        {
            DataDir = Path.Combine(c.DataRoot, $"{name}-{added.Id:x}"),
            InitialCluster = string.Join(",", added.Members.Select(m => $"{(m.ID == added.Id ? name : m.Name)}={m.PeerURLs[0]}")),
            InitialClusterState = "existing",
        });
        c.Replace(old, replacement);
        await replacement.Server.StartAsync();
        // Promoted once its log is within etcd's 90 % of the leader's.
        await RetryAsync(async () =>
        {
            try
            {
                await via.Cluster.MemberPromoteAsync(new MemberPromoteRequest { ID = added.Id }, deadline: DateTime.UtcNow.AddSeconds(5));
            }
            catch (RpcException e) when (e.Status.Detail == "etcdserver: can only promote a learner member")
            {
                // An attempt whose answer was lost went through.
            }
            return true;
        }, _ => false);
        return true;
    }

    /// <summary>A membership call retried every 200 ms for 30 s while its outcome is unknown, the
    /// cluster refuses it for now or the learner is not in sync yet (a reconfiguration must not be
    /// left half done); false once <paramref name="giveUp"/> says so of a refusal.</summary>
    private static async Task<T?> RetryAsync<T>(Func<Task<T>> call, Func<RpcException, bool> giveUp)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (RpcException e) when (giveUp(e))
            {
                return default;
            }
            catch (RpcException e) when (DateTime.UtcNow < deadline && (Indeterminate(e) || e.StatusCode == StatusCode.FailedPrecondition))
            {
                await Task.Delay(200);
            }
        }
    }

    // ResourceExhausted: "etcdserver: too many requests", a member still applying far behind its
    // commit index (a restart), which refuses as etcd does (seed 10, 90 s).
    private static bool Indeterminate(RpcException e) =>
        e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unknown or StatusCode.Internal or StatusCode.Cancelled or StatusCode.ResourceExhausted;

    /// <summary>A write to a request stream (a keep-alive, a watch) can fail with the transport's own
    /// error when the member closes the connection as it stops (HTTP/2 GOAWAY): Grpc.Net.Client
    /// then throws <c>HttpRequestException: The request was aborted</c> from <c>WriteAsync</c>, not
    /// an RpcException (seed 25 for 90 s, and once in ten runs of the CI seed). An unknown outcome.</summary>
    private static bool IsTransportError(Exception e) => e is HttpRequestException or IOException;

    private static CallOptions Call(CancellationToken ct) => new(HasLeader, DateTime.UtcNow.AddSeconds(3), ct);

    /// <summary>Runs <paramref name="op"/> until <paramref name="stop"/>; an error that leaves the
    /// outcome unknown is counted by <paramref name="failed"/> and followed by a short pause.</summary>
    private static async Task LoopAsync(int seed, CancellationToken stop, Func<Random, Task> op, Action failed)
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await op(random);
            }
            catch (Exception e) when (e is RpcException r ? Indeterminate(r) : IsTransportError(e))
            {
                failed();
                await Task.Delay(random.Next(10, 50), CancellationToken.None);
            }
        }
    }

    /// <summary>Puts unique keys through random members; an error leaves a put indeterminate.</summary>
    private static Task AppendAsync(int worker, GrpcChannel[] channels, History h, int seed, CancellationToken stop)
    {
        var n = 0;
        return LoopAsync(seed, stop, async random =>
        {
            var key = $"a/{worker}/{n++:D6}";
            h.Attempted[key] = true;
            var kv = new KV.KVClient(channels[random.Next(channels.Length)]);
            var r = await kv.PutAsync(new PutRequest { Key = B(key), Value = B(key) }, Call(CancellationToken.None));
            h.Ack(key, r.Header.Revision);
        }, () => Interlocked.Increment(ref h.Indeterminate));
    }

    /// <summary>Linearizable count-only reads: a read must see every write acknowledged before it
    /// started, and nothing that was never attempted.</summary>
    private static Task ReadAsync(GrpcChannel[] channels, History h, int seed, CancellationToken stop) =>
        LoopAsync(seed, stop, async random =>
        {
            var (count, revision) = h.Floor();
            var kv = new KV.KVClient(channels[random.Next(channels.Length)]);
            var r = await kv.RangeAsync(new RangeRequest { Key = B("a/"), RangeEnd = B("a0"), CountOnly = true }, Call(CancellationToken.None));
            var attempted = h.Attempted.Count;
            if (r.Header.Revision < revision || r.Count < count)
            {
                h.Violations.Enqueue($"a linearizable read at revision {r.Header.Revision} saw {r.Count} keys after {count} were acknowledged up to revision {revision}");
            }
            if (r.Count > attempted)
            {
                h.Violations.Enqueue($"a read saw {r.Count} keys when {attempted} were attempted");
            }
            Interlocked.Increment(ref h.Reads);
        }, () => Interlocked.Increment(ref h.Refused));

    /// <summary>A counter by compare-and-set on the key's mod revision: each acknowledged win must
    /// write a value no other acknowledged win wrote.</summary>
    private static Task CasAsync(GrpcChannel[] channels, History h, int seed, CancellationToken stop) =>
        LoopAsync(seed, stop, async random =>
        {
            var kv = new KV.KVClient(channels[random.Next(channels.Length)]);
            var read = await kv.RangeAsync(new RangeRequest { Key = B("cas") }, Call(CancellationToken.None));
            var (value, mod) = read.Kvs.Count == 0 ? (0L, 0L) : (long.Parse(read.Kvs[0].Value.ToStringUtf8(), System.Globalization.CultureInfo.InvariantCulture), read.Kvs[0].ModRevision);
            var next = value + 1;
            InterlockedMax(ref h.MaxCasAttempted, next);
            var txn = new TxnRequest
            {
                Compare = { new Compare { Key = B("cas"), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = mod } },
                Success = { new RequestOp { RequestPut = new PutRequest { Key = B("cas"), Value = B(next.ToString(System.Globalization.CultureInfo.InvariantCulture)) } } },
            };
            var r = await new KV.KVClient(channels[random.Next(channels.Length)]).TxnAsync(txn, Call(CancellationToken.None));
            if (r.Succeeded && !h.CasWins.TryAdd(next, true))
            {
                h.Violations.Enqueue($"two acknowledged compare-and-sets wrote {next}");
            }
        }, () => { });

    /// <summary>Leases of 2 s, each with a key, kept alive a few times through random members, then
    /// revoked or left to expire. A revoked lease's key must be gone from any linearizable read
    /// that starts after the revocation was acknowledged.</summary>
    private static Task LeaseAsync(int worker, GrpcChannel[] channels, History h, int seed, CancellationToken stop)
    {
        var n = 0;
        return LoopAsync(seed, stop, async random =>
        {
            GrpcChannel Any() => channels[random.Next(channels.Length)];
            try
            {
                var grant = await new Ketch.Api.Etcdserverpb.Lease.LeaseClient(Any()).LeaseGrantAsync(new LeaseGrantRequest { TTL = 2 }, Call(CancellationToken.None));
                Interlocked.Increment(ref h.LeasesGranted);
                var key = $"l/{worker}/{n++:D5}";
                await new KV.KVClient(Any()).PutAsync(new PutRequest { Key = B(key), Value = B(key), Lease = grant.ID }, Call(CancellationToken.None));
                for (var i = random.Next(4); i > 0; i--)
                {
                    await Task.Delay(random.Next(200, 800), CancellationToken.None);
                    using var keepAlive = new Ketch.Api.Etcdserverpb.Lease.LeaseClient(Any()).LeaseKeepAlive(Call(CancellationToken.None));
                    await keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = grant.ID });
                    if (await keepAlive.ResponseStream.MoveNext(CancellationToken.None) && keepAlive.ResponseStream.Current.TTL > 0)
                    {
                        Interlocked.Increment(ref h.KeepAlives);
                    }
                    await keepAlive.RequestStream.CompleteAsync();
                }
                if (random.Next(2) == 0)
                {
                    await new Ketch.Api.Etcdserverpb.Lease.LeaseClient(Any()).LeaseRevokeAsync(new LeaseRevokeRequest { ID = grant.ID }, Call(CancellationToken.None));
                    Interlocked.Increment(ref h.LeasesRevoked);
                    var after = await new KV.KVClient(Any()).RangeAsync(new RangeRequest { Key = B(key) }, Call(CancellationToken.None));
                    if (after.Kvs.Count != 0)
                    {
                        h.Violations.Enqueue($"{key} was read after its lease {grant.ID:x} was revoked");
                    }
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                // The lease expired meanwhile (a put or revoke after its TTL, under faults).
            }
        }, () => { });
    }

    /// <summary>
    /// Compacts every 0.5-1.5 s, at most 100 revisions behind the head and never above what the
    /// watch asks for next (a compacted start would end it). Once a compaction at C is acknowledged,
    /// a linearizable read at C - 1 must be refused as compacted on any member, and one at C served.
    /// </summary>
    private static Task CompactAsync(GrpcChannel[] channels, History h, int seed, CancellationToken stop) =>
        LoopAsync(seed, stop, async random =>
        {
            await Task.Delay(random.Next(500, 1500), CancellationToken.None);
            KV.KVClient Any() => new(channels[random.Next(channels.Length)]);
            var head = (await Any().RangeAsync(new RangeRequest { Key = B("cas"), CountOnly = true }, Call(CancellationToken.None))).Header.Revision;
            var at = Math.Min(head - 100, Interlocked.Read(ref h.WatchNext));
            if (at <= Math.Max(1, Interlocked.Read(ref h.MaxCompacted)))
            {
                return;
            }
            Interlocked.Increment(ref h.CompactionsAttempted);
            try
            {
                await Any().CompactAsync(new CompactionRequest { Revision = at, Physical = random.Next(2) == 0 }, Call(CancellationToken.None));
            }
            catch (RpcException e) when (IsCompacted(e))
            {
                // Compacted already: an earlier attempt whose answer was lost went through.
            }
            Interlocked.Increment(ref h.Compactions);
            InterlockedMax(ref h.MaxCompacted, at);
            try
            {
                await Any().RangeAsync(new RangeRequest { Key = B("a/"), RangeEnd = B("a0"), CountOnly = true, Revision = at - 1 }, Call(CancellationToken.None));
                h.Violations.Enqueue($"revision {at - 1} was read after a compaction at {at} was acknowledged");
            }
            catch (RpcException e) when (IsCompacted(e))
            {
                Interlocked.Increment(ref h.CompactedReads);
            }
            await Any().RangeAsync(new RangeRequest { Key = B("a/"), RangeEnd = B("a0"), CountOnly = true, Revision = at }, Call(CancellationToken.None));
        }, () => { });

    private static bool IsCompacted(RpcException e) =>
        e.StatusCode == StatusCode.OutOfRange && e.Status.Detail == "etcdserver: mvcc: required revision has been compacted";

    private static void InterlockedMax(ref long target, long value)
    {
        var seen = Interlocked.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var was && was != seen)
        {
            seen = was;
        }
    }

    /// <summary>Watches the appended keys from revision 1 through a random member, resuming after
    /// the last event on another on any error (with <c>hasleader</c>, a cut-off member ends the watch).</summary>
    private static async Task WatchAsync(GrpcChannel[] channels, List<(string Key, long Revision)> watched, History h, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        long next = 1;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var call = new Watch.WatchClient(channels[random.Next(channels.Length)]).Watch(new CallOptions(HasLeader, null, stop));
                await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("a/"), RangeEnd = B("a0"), StartRevision = next } });
                while (await call.ResponseStream.MoveNext(stop))
                {
                    var r = call.ResponseStream.Current;
                    if (r.Canceled || r.CompactRevision != 0)
                    {
                        h.Violations.Enqueue($"the watch was cancelled: {r.CancelReason} (compact revision {r.CompactRevision})");
                        return;
                    }
                    foreach (var e in r.Events)
                    {
                        if (e.Kv.ModRevision < next)
                        {
                            h.Violations.Enqueue($"the watch went back from {next - 1} to {e.Kv.ModRevision}");
                        }
                        next = e.Kv.ModRevision + 1;
                        Interlocked.Exchange(ref h.WatchNext, next);
                        lock (watched)
                        {
                            watched.Add((e.Kv.Key.ToStringUtf8(), e.Kv.ModRevision));
                        }
                    }
                }
            }
            catch (RpcException) when (!stop.IsCancellationRequested)
            {
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is InvalidOperationException || IsTransportError(e))
            {
                // The call ended while the request was written, or its connection closed.
            }
            await Task.Delay(random.Next(20, 100), CancellationToken.None);
        }
    }
}
