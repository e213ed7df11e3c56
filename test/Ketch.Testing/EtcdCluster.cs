using System.Diagnostics;
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
            $"'{name}' was not found on PATH: these tests need real etcd. Install it with 'apt-get install -y {package}' (.ci/run does this).");
    }

    /// <summary>A TCP port on 127.0.0.1 that is free right now (never 2379/2380).</summary>
    /// <returns>The port.</returns>
    public static int FreePort()
    {
        while (true)
        {
            using var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            if (port is not (2379 or 2380))
            {
                return port;
            }
        }
    }
}

internal sealed class EtcdCluster : ITestCluster
{
    private readonly string _etcd;
    private readonly string _dir;
    private readonly Member[] _members;

    private sealed record Member(string Name, int ClientPort, int PeerPort)
    {
        public Process? Process { get; set; }
    }

    public EtcdCluster(string etcd, int count)
    {
        _etcd = etcd;
        _dir = Directory.CreateTempSubdirectory("ketch-etcd-").FullName;
        _members = [.. Enumerable.Range(0, count).Select(i => new Member($"m{i}", Tools.FreePort(), Tools.FreePort()))];
    }

    public string Kind => "etcd";

    public IReadOnlyList<string> Endpoints => [.. _members.Select(m => $"127.0.0.1:{m.ClientPort}")];

    public async Task StartAllAsync()
    {
        for (var i = 0; i < _members.Length; i++)
        {
            Launch(i);
        }
        for (var i = 0; i < _members.Length; i++)
        {
            await WaitReadyAsync(i).ConfigureAwait(false);
        }
    }

    public async Task KillAsync(int member)
    {
        var p = _members[member].Process;
        if (p is { HasExited: false })
        {
            p.Kill();
            await p.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    public async Task RestartAsync(int member)
    {
        await KillAsync(member).ConfigureAwait(false);
        Launch(member);
        await WaitReadyAsync(member).ConfigureAwait(false);
    }

    private void Launch(int i)
    {
        var m = _members[i];
        var cluster = string.Join(",", _members.Select(x => $"{x.Name}=http://127.0.0.1:{x.PeerPort}"));
        var data = Path.Combine(_dir, m.Name);
        var log = Path.Combine(_dir, m.Name + ".log");
        var args = string.Join(' ',
            $"--name {m.Name} --data-dir {data}",
            $"--listen-client-urls http://127.0.0.1:{m.ClientPort} --advertise-client-urls http://127.0.0.1:{m.ClientPort}",
            $"--listen-peer-urls http://127.0.0.1:{m.PeerPort} --initial-advertise-peer-urls http://127.0.0.1:{m.PeerPort}",
            $"--initial-cluster {cluster} --initial-cluster-token ketch-test",
            "--heartbeat-interval 50 --election-timeout 500");
        // exec keeps the PID: we stop exactly the process we started.
        var psi = new ProcessStartInfo("/bin/sh", ["-c", $"exec {_etcd} {args} >>{log} 2>&1"]) { UseShellExecute = false };
        m.Process = Process.Start(psi) ?? throw new InvalidOperationException("could not start etcd");
    }

    private async Task WaitReadyAsync(int i)
    {
        var m = _members[i];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (m.Process is { HasExited: true })
            {
                throw new InvalidOperationException($"etcd {m.Name} exited: {Tail(m)}");
            }
            try
            {
                var body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{m.ClientPort}/health")).ConfigureAwait(false);
                if (body.Contains("\"true\"", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"etcd {m.Name} not healthy within 30 s: {Tail(m)}");
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    private string Tail(Member m)
    {
        var log = Path.Combine(_dir, m.Name + ".log");
        if (!File.Exists(log))
        {
            return "(no log)";
        }
        var lines = File.ReadAllLines(log);
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 15)));
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < _members.Length; i++)
        {
            await KillAsync(i).ConfigureAwait(false);
            _members[i].Process?.Dispose();
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
