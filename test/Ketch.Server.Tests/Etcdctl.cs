using System.Diagnostics;
using System.Text;

namespace Ketch.Server.Tests;

/// <summary>Runs the real etcdctl (Debian's etcd-client, API v3) against an endpoint.</summary>
internal static class Etcdctl
{
    public const string Path = "/usr/bin/etcdctl";

    public static void Require()
    {
        Assert.True(File.Exists(Path), $"{Path} is missing: install Debian's etcd-client (.ci/run does: apt-get install -y etcd-client etcd-server)");
    }

    public static async Task<(int Exit, string Out, string Err)> RunAsync(string endpoint, string args, string? stdin = null, int timeoutSeconds = 45)
    {
        Require();
        var psi = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        psi.Environment["ETCDCTL_API"] = "3";
        psi.ArgumentList.Add("--endpoints=" + endpoint);
        // Generous client timeouts: the shared CI box can be very busy; a slow answer is not a difference.
        psi.ArgumentList.Add("--dial-timeout=10s");
        psi.ArgumentList.Add("--command-timeout=20s");
        foreach (var a in SplitArgs(args))
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"etcdctl {args} did not finish in {timeoutSeconds}s");
        }
        return (p.ExitCode, await stdout, await stderr);
    }

    public static async Task<string> OkAsync(string endpoint, string args, string? stdin = null)
    {
        var (exit, output, err) = await RunAsync(endpoint, args, stdin);
        Assert.True(exit == 0, $"etcdctl {args} exited {exit}: {err}");
        return output;
    }

    /// <summary>Splits on spaces, keeping 'single-quoted' parts together.</summary>
    public static List<string> SplitArgs(string args)
    {
        var result = new List<string>();
        var sb = new StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in args)
        {
            if (c == '\'')
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (any)
                {
                    result.Add(sb.ToString());
                }
                sb.Clear();
                any = false;
            }
            else
            {
                sb.Append(c);
                any = true;
            }
        }
        if (any)
        {
            result.Add(sb.ToString());
        }
        return result;
    }
}
