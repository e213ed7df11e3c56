using System.Diagnostics;
using Ketch.Api.Etcdserverpb;
using Ketch.Bench.Workloads;
using Ketch.Testing;
using Xunit;

namespace Ketch.Bench.Tests;

/// <summary>
/// ketch-bench's TLS options (<c>--cacert</c>, <c>--cert</c>, <c>--key</c>,
/// <c>--insecure-skip-tls-verify</c>, https endpoints) against a ketch process serving an https
/// client URL with <c>--client-cert-auth</c>, certificates from <see cref="TestPki"/>.
/// </summary>
public sealed class TlsTests : IAsyncLifetime
{
    private readonly TestPki _pki = TestPki.Create();
    private readonly string _dataDir = Directory.CreateTempSubdirectory("ketch-bench-tls-").FullName;
    private Process? _ketch;
    private string _hostPort = "";

    private string[] Cert => ["--cacert", _pki.CaFile, "--cert", _pki.ClientCertFile, "--key", _pki.ClientKeyFile];

    public async Task InitializeAsync()
    {
        _hostPort = $"127.0.0.1:{Tools.FreePort()}";
        var peer = $"http://127.0.0.1:{Tools.FreePort()}";
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "ketch.dll"), "--data-dir", Path.Combine(_dataDir, "data"),
            "--listen-client-urls", "https://" + _hostPort, "--advertise-client-urls", "https://" + _hostPort,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "default=" + peer,
            "--cert-file", _pki.ServerCertFile, "--key-file", _pki.ServerKeyFile, "--trusted-ca-file", _pki.CaFile, "--client-cert-auth",
        })
        {
            start.ArgumentList.Add(arg);
        }
        _ketch = Process.Start(start) ?? throw new InvalidOperationException("ketch did not start");
        _ketch.OutputDataReceived += (_, _) => { };
        _ketch.ErrorDataReceived += (_, _) => { };
        _ketch.BeginOutputReadLine();
        _ketch.BeginErrorReadLine();
        // Ready when a Range over TLS answers, polled with a deadline.
        Assert.True(ArgParser.TryParse(["range", "--endpoints", _hostPort, .. Cert], out var options, out var error), error);
        using var pool = new ChannelPool(options!.Endpoints, 1, options.Tls);
        var kv = new KV.KVClient(pool.InvokerFor(0));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await kv.RangeAsync(new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("ready") }, deadline: DateTime.UtcNow.AddSeconds(2));
                return;
            }
            catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline && !_ketch.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_ketch is { HasExited: false })
        {
            _ketch.Kill();
            await _ketch.WaitForExitAsync();
        }
        _ketch?.Dispose();
        _pki.Dispose();
        Directory.Delete(_dataDir, recursive: true);
    }

    private static async Task<RunResult> RunAsync(IWorkload workload, params string[] args)
    {
        Assert.True(ArgParser.TryParse([.. args, "--no-progress"], out var options, out var error), error);
        using var pool = new ChannelPool(options!.Endpoints, options.Conns, options.Tls);
        return await workload.RunAsync(new BenchContext(options, pool, CancellationToken.None));
    }

    [Fact]
    public async Task Workloads_run_against_a_tls_member()
    {
        // host:port with TLS options means TLS, as with etcd's benchmark.
        var put = await RunAsync(new PutWorkload(), ["put", "--endpoints", _hostPort, .. Cert, "--total", "200", "--clients", "4", "--key-space", "50"]);
        Assert.Equal(200, put.Ops);
        Assert.Empty(put.Errors);
        // An https:// endpoint, the member's certificate not verified but ours shown.
        var range = await RunAsync(new RangeWorkload(), "range", "--endpoints", "https://" + _hostPort, "--insecure-skip-tls-verify",
            "--cert", _pki.ClientCertFile, "--key", _pki.ClientKeyFile, "--total", "100", "--clients", "2", "--consistency", "s");
        Assert.Equal(100, range.Ops);
        Assert.Empty(range.Errors);
    }

    [Fact]
    public async Task Without_a_client_certificate_every_call_fails_and_bad_files_stop_the_tool()
    {
        var refused = await RunAsync(new RangeWorkload(), "range", "--prefix", "--endpoints", _hostPort, "--cacert", _pki.CaFile, "--total", "3", "--timeout", "2s");
        Assert.Equal(3, refused.Errors.Values.Sum());

        var dll = Path.Combine(AppContext.BaseDirectory, "ketch-bench.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { dll, "put", "--endpoints", _hostPort, "--cacert", "/no/such/ca.pem", "--total", "1" })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, process.ExitCode);
        Assert.Equal("ketch-bench: bad tls config: open /no/such/ca.pem: no such file or directory\n", await stderr);
    }
}
