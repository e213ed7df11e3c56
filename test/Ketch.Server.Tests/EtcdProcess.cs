using System.Diagnostics;

namespace Ketch.Server.Tests;

/// <summary>A real etcd (Debian's etcd-server) on free loopback ports with its own temporary data
/// directory, stopped by PID; the reference the compatibility tests compare against.</summary>
internal sealed class EtcdProcess : IAsyncDisposable
{
    public const string Path = "/usr/bin/etcd";
    private readonly Process _process;
    private readonly TempDir _dir;

    private EtcdProcess(Process process, TempDir dir, string endpoint)
    {
        _process = process;
        _dir = dir;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    /// <param name="extraArgs">More flags (e.g. <c>--auth-token</c>).</param>
    public static Task<EtcdProcess> StartAsync(params string[] extraArgs) =>
        StartAsync("http", async client =>
        {
            using var http = new HttpClient();
            return (await http.GetStringAsync(client + "/health")).Contains("true", StringComparison.Ordinal);
        }, extraArgs);

    /// <summary>etcd on an https client URL; <paramref name="healthy"/> is polled with that URL
    /// until it says yes (the caller knows which certificates the member wants).</summary>
    /// <param name="healthy">Probe of the client URL.</param>
    /// <param name="extraArgs">The TLS flags and more.</param>
    public static Task<EtcdProcess> StartHttpsAsync(Func<string, Task<bool>> healthy, params string[] extraArgs) =>
        StartAsync("https", healthy, extraArgs);

    private static async Task<EtcdProcess> StartAsync(string scheme, Func<string, Task<bool>> healthy, string[] extraArgs)
    {
        Assert.True(File.Exists(Path), $"{Path} is missing: install Debian's etcd-server (.ci/run does: apt-get install -y etcd-client etcd-server)");
        var dir = new TempDir();
        var client = $"{scheme}://127.0.0.1:{TestNet.FreePort()}";
        var peer = $"http://127.0.0.1:{TestNet.FreePort()}";
        var psi = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            "--name", "ref", "--data-dir", System.IO.Path.Combine(dir.Path, "data"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "ref=" + peer, "--log-level", "error", "--logger", "zap",
        }.Concat(extraArgs))
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var etcd = new EtcdProcess(p, dir, client.Replace(scheme + "://", "", StringComparison.Ordinal));
        try
        {
            await TestNet.WaitUntil(() => healthy(client), TimeSpan.FromSeconds(30), "etcd to become healthy");
        }
        catch
        {
            await etcd.DisposeAsync();
            throw;
        }
        return etcd;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _dir.Dispose();
    }
}
