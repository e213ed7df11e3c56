using System.Diagnostics;

namespace Ketch.Testing;

/// <summary>
/// A cluster of server processes on loopback (etcd or ketch: they share flags), each member with
/// its own data directory and log file under one temporary directory. Only processes started
/// here are stopped, by their own handle; disposing kills them and deletes the data.
/// </summary>
internal abstract class ProcessCluster : ITestCluster
{
    private readonly string _dir;
    private readonly MemberSpec[] _members;

    /// <summary>One member: where it listens, and its process while it runs.</summary>
    protected sealed record MemberSpec(string Name, string Host, int ClientPort, int PeerPort)
    {
        public Process? Process { get; set; }

        public string ClientUrl => $"http://{Host}:{ClientPort}";

        public string PeerUrl => $"http://{Host}:{PeerPort}";
    }

    /// <param name="prefix">Name prefix of the temporary directory.</param>
    /// <param name="hosts">The loopback address of each member.</param>
    protected ProcessCluster(string prefix, IReadOnlyList<string> hosts)
    {
        _dir = Directory.CreateTempSubdirectory(prefix).FullName;
        _members = [.. hosts.Select((h, i) => new MemberSpec($"m{i}", h, Tools.FreePort(h), Tools.FreePort(h)))];
    }

    public abstract string Kind { get; }

    public IReadOnlyList<string> Endpoints => [.. _members.Select(m => $"{m.Host}:{m.ClientPort}")];

    /// <summary>The command line that runs <paramref name="member"/> (shell words, already quoted).</summary>
    protected abstract string Command(MemberSpec member, string dataDir, string initialCluster);

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
            p.Kill(); // SIGKILL on Linux
            await p.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    public async Task<int> WaitForExitAsync(int member, TimeSpan timeout)
    {
        var p = _members[member].Process ?? throw new InvalidOperationException($"{Kind} m{member} was never started");
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Kind} {_members[member].Name} still running after {timeout.TotalSeconds:0} s: {Tail(_members[member])}");
        }
        return p.ExitCode;
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
        var cluster = string.Join(",", _members.Select(x => $"{x.Name}={x.PeerUrl}"));
        var data = Path.Combine(_dir, m.Name);
        var log = Path.Combine(_dir, m.Name + ".log");
        // exec keeps the PID: we stop exactly the process we started.
        var psi = new ProcessStartInfo("/bin/sh", ["-c", $"exec {Command(m, data, cluster)} >>{log} 2>&1"]) { UseShellExecute = false };
        m.Process?.Dispose();
        m.Process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Kind} {m.Name}");
    }

    private async Task WaitReadyAsync(int i)
    {
        var m = _members[i];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        // What the last probe saw, for the timeout's message: /health's answer (503 with a reason
        // while unhealthy) or why there was none.
        var last = "none yet";
        while (true)
        {
            if (m.Process is { HasExited: true })
            {
                throw new InvalidOperationException($"{Kind} {m.Name} exited: {Tail(m)}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri($"{m.ClientUrl}/health")).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                if (response.IsSuccessStatusCode && body.Contains("\"true\"", StringComparison.Ordinal))
                {
                    return;
                }
                last = $"{(int)response.StatusCode} {body}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or too slow to answer.
                last = $"{ex.GetType().Name}: {ex.Message}";
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Kind} {m.Name} not healthy within 60 s (last /health: {last}): {Tail(m)}");
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    private string Tail(MemberSpec m)
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
