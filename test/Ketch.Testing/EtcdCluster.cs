using System.Net;
using System.Net.Sockets;

namespace Ketch.Testing;

/// <summary>Starts real etcd processes (Debian's etcd-server). Fails with a clear message when etcd is missing.</summary>
public sealed class EtcdClusterProvider : IClusterProvider
{
    /// <summary>The shared instance.</summary>
    public static EtcdClusterProvider Instance { get; } = new();

    /// <inheritdoc/>
    public async Task<ITestCluster> StartAsync(int members = 1)
    {
        var cluster = new EtcdCluster(Tools.Require("etcd", "etcd-server"), members);
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

/// <summary>Finds required executables.</summary>
public static class Tools
{
    /// <summary>The full path of <paramref name="name"/> on PATH, or an exception that says how to install it.</summary>
    /// <param name="name">Executable name.</param>
    /// <param name="package">Debian package that provides it.</param>
    /// <returns>The path.</returns>
    public static string Require(string name, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var p = Path.Combine(dir, name);
            if (File.Exists(p))
            {
                return p;
            }
        }
        throw new InvalidOperationException(
            $"'{name}' was not found on PATH: these tests run it. Install it with 'apt-get install -y {package}' (.ci/run does this).");
    }

    /// <summary>A TCP port on <paramref name="host"/> (a loopback address) that is free right now (never 2379/2380).</summary>
    /// <param name="host">The address to bind, 127.0.0.1 unless given.</param>
    /// <returns>The port.</returns>
    public static int FreePort(string host = "127.0.0.1")
    {
        while (true)
        {
            using var l = new TcpListener(IPAddress.Parse(host), 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            if (port is (2379 or 2380))
            {
                continue;
            }
            // Never the same port twice in a process: a member restarted on its old ports must not
            // find them taken by a cluster that a test running in parallel started meanwhile.
            lock (s_handedOut)
            {
                if (s_handedOut.Add((host, port)))
                {
                    return port;
                }
            }
        }
    }

    private static readonly HashSet<(string Host, int Port)> s_handedOut = [];
}

/// <summary>etcd members, each on its own loopback address (.51, .52, ... of this process's
/// <see cref="LoopbackBlock"/>) with free ports. Until 2026-11-28 they shared 127.0.0.1, where a
/// port found free could be taken, before etcd bound it, as the source port of any connection to
/// 127.0.0.1 from a test running in parallel (CI saw "bind: address already in use");
/// connections to these addresses leave from 127.0.0.1.</summary>
internal sealed class EtcdCluster(string etcd, int count)
    : ProcessCluster("ketch-etcd-", [.. Enumerable.Range(0, count).Select(i => LoopbackBlock.Address(51 + i))])
{
    public override string Kind => "etcd";

    protected override string Command(MemberSpec member, string dataDir, string initialCluster) => string.Join(' ',
        etcd,
        $"--name {member.Name} --data-dir {dataDir}",
        $"--listen-client-urls {member.ClientUrl} --advertise-client-urls {member.ClientUrl}",
        $"--listen-peer-urls {member.PeerUrl} --initial-advertise-peer-urls {member.PeerUrl}",
        $"--initial-cluster {initialCluster} --initial-cluster-token ketch-test",
        "--heartbeat-interval 50 --election-timeout 500",
        // etcd's lowest bcrypt cost: a login costs ~4 ms instead of ~100-200 ms at the default 10.
        "--bcrypt-cost 4");
}
