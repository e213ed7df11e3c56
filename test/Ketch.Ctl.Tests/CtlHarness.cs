using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary>One output of a CLI run.</summary>
public sealed record Run(string Stdout, string Stderr, int ExitCode)
{
    /// <summary>Stderr without etcdctl's zap log lines (they carry timestamps and random ids).</summary>
    public string Errors => string.Join('\n', Stderr.Split('\n').Where(l => !l.StartsWith("{\"level\"", StringComparison.Ordinal)));
}

/// <summary>The two CLIs run once each: etcdctl 3.4 as a process, ketchctl in-process.</summary>
public static class Clis
{
    /// <summary>Runs etcdctl (API 3) with <paramref name="args"/> as given (endpoints included),
    /// feeding <paramref name="stdin"/>; killed if it runs past 30 s.</summary>
    public static async Task<Run> EtcdctlAsync(IEnumerable<string> args, string? stdin = null, Dictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(Tools.Require("etcdctl", "etcd-client"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["ETCDCTL_API"] = "3";
        foreach (var (k, v) in env ?? [])
        {
            psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardInput.WriteAsync(stdin ?? "");
        p.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }
        return new Run(await stdout, await stderr, p.ExitCode);
    }

    /// <summary>Runs ketchctl in-process with <paramref name="args"/> as given.</summary>
    public static async Task<Run> KetchctlAsync(IEnumerable<string> args, string? stdin = null, Dictionary<string, string>? env = null, CancellationToken interrupt = default)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        var rc = await Runner.RunAsync([.. args], o, e, new StringReader(stdin ?? ""), env ?? [], interrupt);
        return new Run(o.ToString(), e.ToString(), rc);
    }
}

/// <summary>A cluster shared by a test class, plus runners for etcdctl (a process) and ketchctl (in-process).
/// A real etcd; <see cref="KetchCtlFixture"/> runs the same on ketch.</summary>
public partial class CtlFixture : IAsyncLifetime
{
    public ITestCluster Cluster { get; private set; } = null!;

    public string Endpoint => Cluster.Endpoints[0];

    /// <summary>What the cluster runs.</summary>
    protected virtual IClusterProvider Provider => EtcdClusterProvider.Instance;

    /// <summary>How many members the cluster has; the runners talk to the first.</summary>
    protected virtual int Members => 1;

    public async Task InitializeAsync()
    {
        Tools.Require("etcdctl", "etcd-client");
        Cluster = await Provider.StartAsync(Members);
    }

    public Task DisposeAsync() => Cluster.DisposeAsync().AsTask();

    public Task<Run> EtcdctlAsync(string[] args, string? stdin = null, Dictionary<string, string>? env = null) =>
        Clis.EtcdctlAsync(["--endpoints=" + Endpoint, .. args], stdin, env);

    public Task<Run> KetchctlAsync(string[] args, string? stdin = null, Dictionary<string, string>? env = null, CancellationToken interrupt = default) =>
        Clis.KetchctlAsync(["--endpoints=" + Endpoint, .. args], stdin, env, interrupt);

    /// <summary>Runs both and asserts equal stdout, error text and exit code (after <paramref name="normalize"/>).</summary>
    public async Task<(Run Etcdctl, Run Ketchctl)> SameAsync(string[] args, string? stdin = null, bool normalize = false, Func<Task>? before = null)
    {
        if (before is not null)
        {
            await before();
        }
        var a = await EtcdctlAsync(args, stdin);
        if (before is not null)
        {
            await before();
        }
        var b = await KetchctlAsync(args, stdin);
        if (a.Stdout.StartsWith("NAME:\n", StringComparison.Ordinal))
        {
            // A usage error: the help page (prose differs; HelpTests compares its layout) and the error twice; compare the error.
            Assert.Equal(a.Errors.Split('\n')[0], b.Errors.Split('\n')[0]);
            Assert.Equal(a.ExitCode, b.ExitCode);
            return (a, b);
        }
        var (sa, sb) = normalize ? (Mask(a.Stdout), Mask(b.Stdout)) : (a.Stdout, b.Stdout);
        Assert.True(sa == sb, $"stdout differs for `{string.Join(' ', args)}`:\n--- etcdctl\n{a.Stdout}\n--- ketchctl\n{b.Stdout}\n--- etcdctl stderr\n{a.Stderr}\n--- ketchctl stderr\n{b.Stderr}");
        Assert.True(a.Errors == b.Errors, $"stderr differs for `{string.Join(' ', args)}`:\n--- etcdctl\n{a.Errors}\n--- ketchctl\n{b.Errors}");
        Assert.True(a.ExitCode == b.ExitCode, $"exit code differs for `{string.Join(' ', args)}`: etcdctl {a.ExitCode}, ketchctl {b.ExitCode}\n{a.Errors}\n{b.Errors}");
        return (a, b);
    }

    /// <summary>Masks values that differ between two runs of a write: revisions, lease ids,
    /// durations, and a lease's remaining TTL (it ticks down between the two runs).</summary>
    public static string Mask(string s)
    {
        s = RevisionJson().Replace(s, "$1:N");
        s = RevisionFields().Replace(s, "$1 : N");
        s = LeaseHex().Replace(s, "LEASE");
        s = Took().Replace(s, "DURATION");
        return s;
    }

    [GeneratedRegex("(\"(?:revision|mod_revision|create_revision|version|ID|id|lease|raft_term|Revision|ttl)\"):-?\\d+")]
    private static partial Regex RevisionJson();

    [GeneratedRegex("(\"(?:Revision|ModRevision|CreateRevision|PrevModRevision|PrevCreateRevision|PrevVersion|Version|ID|Lease|TTL)\") : -?\\d+")]
    private static partial Regex RevisionFields();

    [GeneratedRegex("\\b[0-9a-f]{16}\\b")]
    private static partial Regex LeaseHex();

    [GeneratedRegex("\\d+(\\.\\d+)?(ns|µs|ms|s)\\b")]
    private static partial Regex Took();
}
