using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>An in-process cluster on loopback, each member on its own address (127.0.0.11, .12, ...).</summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private readonly TempDir _dir = new();

    private TestCluster(List<TestMember> members) => Members = members;

    public List<TestMember> Members { get; }

    public static async Task<TestCluster> StartAsync(int size, string token = "test-cluster", Func<KetchServerOptions, KetchServerOptions>? tweak = null)
    {
        var specs = Enumerable.Range(1, size).Select(i =>
        {
            var ip = $"127.0.0.{10 + i}";
            return (Name: $"m{i}", Ip: ip, Client: $"http://{ip}:{TestNet.FreePort(ip)}", Peer: $"http://{ip}:{TestNet.FreePort(ip)}");
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
                ListenPeerUrls = [s.Peer],
                InitialAdvertisePeerUrls = [s.Peer],
                InitialCluster = initial,
                InitialClusterToken = token,
                HeartbeatIntervalMs = 50,
                ElectionTimeoutMs = 500,
                RequestTimeout = TimeSpan.FromSeconds(5),
                LoggerFactory = TestLog.Factory(),
            })));
        }
        await Task.WhenAll(cluster.Members.Select(m => m.StartAsync()));
        return cluster;
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
        _dir.Dispose();
    }
}
