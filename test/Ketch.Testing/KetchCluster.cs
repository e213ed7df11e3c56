namespace Ketch.Testing;

/// <summary>Starts <c>ketch</c> processes (the executable built from <c>src/Ketch</c>, copied next
/// to the tests as <c>ketch.dll</c> by the project reference).</summary>
public sealed class KetchClusterProvider : IClusterProvider
{
    /// <summary>The shared instance.</summary>
    public static KetchClusterProvider Instance { get; } = new();

    /// <summary>The <c>ketch.dll</c> the members run.</summary>
    public static string KetchDll
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "ketch.dll");
            return File.Exists(dll)
                ? dll
                : throw new InvalidOperationException($"ketch.dll is not in {AppContext.BaseDirectory}: the test project must reference test/Ketch.Testing (which references src/Ketch).");
        }
    }

    /// <inheritdoc/>
    public async Task<ITestCluster> StartAsync(int members = 1)
    {
        var cluster = new KetchCluster(KetchDll, members);
        try
        {
            await cluster.StartAllAsync().ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

/// <summary>ketch members, each on its own loopback address (.41, .42, ... of this process's
/// <see cref="LoopbackBlock"/>) with free ports, run with etcd's flags and the same timings as
/// <see cref="EtcdCluster"/>.</summary>
internal sealed class KetchCluster(string ketchDll, int count)
    : ProcessCluster("ketch-members-", [.. Enumerable.Range(0, count).Select(i => LoopbackBlock.Address(41 + i))])
{
    public override string Kind => "ketch";

    protected override string Command(MemberSpec member, string dataDir, string initialCluster) => string.Join(' ',
        $"dotnet {ketchDll}",
        $"--name {member.Name} --data-dir {dataDir}",
        $"--listen-client-urls {member.ClientUrl} --advertise-client-urls {member.ClientUrl}",
        $"--listen-peer-urls {member.PeerUrl} --initial-advertise-peer-urls {member.PeerUrl}",
        $"--initial-cluster {initialCluster} --initial-cluster-token ketch-test",
        "--heartbeat-interval 50 --election-timeout 500",
        // etcd's lowest bcrypt cost: a login costs ~4 ms instead of ~100-200 ms at the default 10.
        "--bcrypt-cost 4");
}
