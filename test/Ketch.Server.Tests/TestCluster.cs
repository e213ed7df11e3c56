using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>An in-process cluster on loopback, each member on its own address (127.0.0.11, .12, ...).</summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<PartitionProxy> _proxies = [];
    private HashSet<ulong>? _minority;
    private HashSet<(ulong, ulong)>? _cutLinks;
    private volatile bool _silent;

    private TestCluster(List<TestMember> members) => Members = members;

    public List<TestMember> Members { get; }

    /// <summary>Where the members' data directories are (deleted with the cluster).</summary>
    public string DataRoot => _dir.Path;

    /// <summary>Puts <paramref name="by"/> in <paramref name="old"/>'s place (a member replaced by a
    /// new one on its addresses); <paramref name="old"/> must be stopped already.</summary>
    public void Replace(TestMember old, TestMember by) => Members[Members.IndexOf(old)] = by;

    /// <param name="size">Number of members.</param>
    /// <param name="token">The initial cluster token.</param>
    /// <param name="tweak">Changes to each member's options.</param>
    /// <param name="partitionable">Put a <see cref="PartitionProxy"/> in front of every member's peer
    /// port, so that <see cref="Partition"/> can cut links while every member keeps running.</param>
    public static async Task<TestCluster> StartAsync(int size, string token = "test-cluster", Func<KetchServerOptions, KetchServerOptions>? tweak = null, bool partitionable = false)
    {
        var specs = Enumerable.Range(1, size).Select(i =>
        {
            var ip = $"127.0.0.{10 + i}";
            var peer = $"http://{ip}:{TestNet.FreePort(ip)}";
            return (Name: $"m{i}", Ip: ip, Client: $"http://{ip}:{TestNet.FreePort(ip)}", Peer: peer,
                Listen: partitionable ? $"http://{ip}:{TestNet.FreePort(ip)}" : peer);
        }).ToList();
        var initial = string.Join(",", specs.Select(s => $"{s.Name}={s.Peer}"));
        var cluster = new TestCluster([]);
        foreach (var s in specs)
        {
            cluster.Members.Add(TestMember.Create((tweak ?? (o => o))(new KetchServerOptions
            {
                Name = s.Name,
                DataDir = Path.Combine(cluster._dir.Path, s.Name),
                ListenClientUrls = [s.Client],
                AdvertiseClientUrls = [s.Client],
                ListenPeerUrls = [s.Listen],
                InitialAdvertisePeerUrls = [s.Peer],
                InitialCluster = initial,
                InitialClusterToken = token,
                HeartbeatIntervalMs = 50,
                ElectionTimeoutMs = 500,
                RequestTimeout = TimeSpan.FromSeconds(5),
                BcryptCost = 4, // etcd's lowest: a login costs ~4 ms, not ~100-200 ms at 10
                LoggerFactory = TestLog.Factory(),
            })));
        }
        if (partitionable)
        {
            foreach (var s in specs)
            {
                var advertised = new Uri(s.Peer);
                var listen = new Uri(s.Listen);
                cluster._proxies.Add(new PartitionProxy(
                    new System.Net.IPEndPoint(System.Net.IPAddress.Parse(advertised.Host), advertised.Port),
                    new System.Net.IPEndPoint(System.Net.IPAddress.Parse(listen.Host), listen.Port),
                    cluster.Allowed,
                    () => cluster._silent));
            }
        }
        await Task.WhenAll(cluster.Members.Select(m => m.StartAsync()));
        return cluster;
    }

    /// <summary>Cuts every peer link between <paramref name="minority"/> and the other members (the
    /// cluster must have been started partitionable); the processes keep running.</summary>
    public void Partition(params TestMember[] minority)
    {
        Volatile.Write(ref _minority, minority.Select(m => m.Server.MemberId).ToHashSet());
        foreach (var p in _proxies)
        {
            p.Enforce();
        }
    }

    /// <summary>As <see cref="Partition"/>, but a connection across the cut is accepted and then
    /// never answered (a hung peer, or a middlebox that black-holes the stream), rather than refused.</summary>
    public void PartitionSilently(params TestMember[] minority)
    {
        _silent = true;
        Partition(minority);
    }

    /// <summary>Dials from <paramref name="from"/> to <paramref name="to"/> held unanswered by a silent partition.</summary>
    public int HeldDials(TestMember from, TestMember to) =>
        _proxies[Members.IndexOf(to)].Held(from.Server.MemberId, to.Server.MemberId);

    /// <summary>Cuts only the links between the given pairs of members, both ways (a partial
    /// partition: a member may still reach a third that reaches the other).</summary>
    public void Cut(params (TestMember A, TestMember B)[] links)
    {
        Volatile.Write(ref _cutLinks, links.SelectMany(l => new[] { (l.A.Server.MemberId, l.B.Server.MemberId), (l.B.Server.MemberId, l.A.Server.MemberId) }).ToHashSet());
        foreach (var p in _proxies)
        {
            p.Enforce();
        }
    }

    /// <summary>Ends the partition: every link may connect again.</summary>
    public void Heal()
    {
        Volatile.Write(ref _minority, null);
        Volatile.Write(ref _cutLinks, null);
        _silent = false;
    }

    private bool Allowed(ulong from, ulong to)
    {
        var minority = Volatile.Read(ref _minority);
        var cut = Volatile.Read(ref _cutLinks);
        return (minority is null || minority.Contains(from) == minority.Contains(to))
            && (cut is null || !cut.Contains((from, to)));
    }

    /// <summary>The member every running member agrees leads.</summary>
    public async Task<TestMember> LeaderAsync(IEnumerable<TestMember>? among = null)
    {
        var live = (among ?? Members).ToList();
        TestMember? leader = null;
        await TestNet.WaitUntil(() =>
        {
            var leaders = live.Select(m => m.Server.Leader).Distinct().ToList();
            if (leaders.Count != 1 || leaders[0] == 0)
            {
                return false;
            }
            leader = live.FirstOrDefault(m => m.Server.MemberId == leaders[0]);
            return leader is not null;
        }, TimeSpan.FromSeconds(20), "one leader agreed by all members");
        return leader!;
    }

    public static async Task<PutResponse> PutAsync(TestMember m, string key, string value) =>
        await m.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) });

    public async ValueTask DisposeAsync()
    {
        foreach (var m in Members)
        {
            await m.DisposeAsync();
        }
        foreach (var p in _proxies)
        {
            await p.DisposeAsync();
        }
        _dir.Dispose();
    }
}
