using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Ketch.Api.Etcdserverpb;
using Xunit;

namespace Ketch.Bench.Tests;

/// <summary>
/// A real single-member etcd (Debian's /usr/bin/etcd) on free loopback ports with its data in
/// a fresh temp dir; ready when a Range answers (polled with a deadline); stopped by its PID and
/// its dir removed on dispose. Fails, never skips, when etcd is missing: .ci/run installs it.
/// </summary>
public sealed class EtcdProcess : IAsyncLifetime
{
    private const string EtcdPath = "/usr/bin/etcd";
    private Process? _process;
    private string? _dataDir;
    private readonly Queue<string> _log = new();

    public Uri ClientUrl { get; private set; } = null!;

    public int Pid => _process?.Id ?? 0;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(EtcdPath),
            $"{EtcdPath} is missing: install it with 'apt-get install -y etcd-server etcd-client' (.ci/run does).");
        _dataDir = Directory.CreateTempSubdirectory("ketch-bench-test-").FullName;
        var clientPort = FreePort();
        var peerPort = FreePort();
        // etcd refuses URLs with a path, even "/": keep the text without the trailing slash.
        var client = $"http://127.0.0.1:{clientPort}";
        ClientUrl = new Uri(client);
        var peer = $"http://127.0.0.1:{peerPort}";
        var start = new ProcessStartInfo(EtcdPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--name", "bench-test", "--data-dir", Path.Combine(_dataDir, "data"),
                     "--listen-client-urls", client, "--advertise-client-urls", client,
                     "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                     "--initial-cluster", "bench-test=" + peer, "--log-level", "warn",
                 })
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("etcd did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_log)
                {
                    _log.Enqueue(e.Data);
                    if (_log.Count > 20)
                    {
                        _log.Dequeue();
                    }
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitReadyAsync(TimeSpan.FromSeconds(20));
    }

    private async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var channel = GrpcChannel.ForAddress(ClientUrl);
        var kv = new KV.KVClient(channel);
        var deadline = DateTime.UtcNow + timeout;
        RpcException? last = null;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(_process!.HasExited, $"etcd exited with code {(_process.HasExited ? _process.ExitCode : 0)} while starting: {Log()}");
            try
            {
                await kv.RangeAsync(new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("health") },
                    deadline: DateTime.UtcNow + TimeSpan.FromSeconds(1));
                return;
            }
            catch (RpcException e)
            {
                // Not listening yet (Unavailable) or no leader yet: poll again until the deadline.
                last = e;
                await Task.Delay(TimeSpan.FromMilliseconds(50)); // poll interval, bounded by the deadline
            }
        }
        Assert.Fail($"etcd at {ClientUrl} not ready within {timeout}: {last?.Status}");
    }

    private string Log()
    {
        lock (_log)
        {
            return string.Join(Environment.NewLine, _log);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: false);
            }
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
        if (_dataDir is not null && Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }
}
