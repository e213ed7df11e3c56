using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary><see cref="CtlFixture"/> with authentication enabled (user root, password rootpw), on etcd.</summary>
public class AuthCtlFixture : CtlFixture
{
    private readonly Lock _gate = new();
    private Task? _enabled;

    /// <summary>Adds root and enables authentication, once.</summary>
    public Task AuthEnabledAsync()
    {
        lock (_gate)
        {
            return _enabled ??= EnableAsync();
        }
    }

    private async Task EnableAsync()
    {
        var add = await EtcdctlAsync(["user", "add", "root:rootpw"]);
        Assert.True(add.ExitCode == 0, add.Stderr);
        var enable = await EtcdctlAsync(["auth", "enable"]);
        Assert.True(enable.ExitCode == 0, enable.Stderr);
    }
}

/// <summary><see cref="AuthCtlFixture"/> on a ketch member.</summary>
public sealed class KetchAuthCtlFixture : AuthCtlFixture
{
    protected override IClusterProvider Provider => KetchClusterProvider.Instance;
}

/// <summary>
/// Passwords asked for when the command line does not give them (<c>--user root</c>, <c>user add</c>,
/// <c>user passwd</c>), with stdin a pipe, and <c>endpoint hashkv</c> without credentials: etcdctl and
/// ketchctl on the same auth-enabled server, outputs compared. etcdctl also runs stty on the pipe, which
/// complains on stderr ("stty: 'standard input': Inappropriate ioctl for device"); those lines are not
/// etcdctl's own and are left out of the comparison.
/// </summary>
public abstract class AuthPromptTests(AuthCtlFixture f)
{
    [Fact]
    public async Task User_without_password_reads_it_from_piped_stdin()
    {
        await f.AuthEnabledAsync();
        (string[] Args, string Stdin)[] cases =
        [
            (["--user", "root", "put", "pk", "v"], "rootpw\n"),
            (["--user", "root", "get", "pk"], "rootpw\n"),
            // The last line needs no newline; blanks around the password do not count, blanks inside do.
            (["--user", "root", "get", "pk"], "rootpw"),
            (["--user", "root", "get", "pk"], " rootpw \r\n"),
            (["--user", "root", "get", "pk"], "root pw\n"),
            (["--user", "root: rootpw", "get", "pk"], ""),
            (["--user", "root", "get", "pk"], "wrong\n"),
            // Nothing to read: an empty password, so no authentication at all.
            (["--user", "root", "get", "pk"], ""),
            (["--user", "root:", "get", "pk"], ""),
            (["--user", "root", "--password", "rootpw", "get", "pk"], ""),
        ];
        foreach (var (args, stdin) in cases)
        {
            var a = await f.EtcdctlAsync(args, stdin);
            var b = await f.KetchctlAsync(args, stdin);
            AssertSame(args, stdin, a, b);
        }
    }

    [Fact]
    public async Task User_add_and_passwd_ask_twice_on_piped_stdin()
    {
        await f.AuthEnabledAsync();
        string[] inputs = ["a\nb\n", "pw\npw\n", "a\n", "", "\n", " x\nx \n"];
        for (var i = 0; i < inputs.Length; i++)
        {
            // One user name per tool (both add to the same server), masked for the comparison.
            var a = await f.EtcdctlAsync(["--user", "root:rootpw", "user", "add", $"e{i}"], inputs[i]);
            var b = await f.KetchctlAsync(["--user", "root:rootpw", "user", "add", $"k{i}"], inputs[i]);
            AssertSame(["user", "add", $"#{i}"], inputs[i], Mask(a, $"e{i}"), Mask(b, $"k{i}"));
        }
        var created = await f.EtcdctlAsync(["--user", "root:rootpw", "user", "list"]);
        Assert.Equal("e1\ne5\nk1\nk5\nroot\n", created.Stdout);
        // The blanks typed around it are not part of the password.
        Assert.Equal(0, (await f.EtcdctlAsync(["--user", "k5:x", "user", "get", "k5"])).ExitCode);
        foreach (var input in new[] { "new\nnew\n", "new\nother\n", "" })
        {
            var a = await f.EtcdctlAsync(["--user", "root:rootpw", "user", "passwd", "e1"], input);
            var b = await f.KetchctlAsync(["--user", "root:rootpw", "user", "passwd", "k1"], input);
            AssertSame(["user", "passwd"], input, Mask(a, "e1"), Mask(b, "k1"));
        }
        // Both passwords changed to the one typed.
        Assert.Equal(0, (await f.EtcdctlAsync(["--user", "k1:new", "user", "get", "k1"])).ExitCode);
        Assert.Equal(0, (await f.KetchctlAsync(["--user", "e1", "user", "get", "e1"], "new\n")).ExitCode);
    }

    [Fact]
    public async Task Endpoint_hashkv_without_credentials_fails_as_etcdctl()
    {
        await f.AuthEnabledAsync();
        foreach (string[] args in (string[][])[["endpoint", "hashkv"], ["-w", "json", "endpoint", "hashkv"], ["-w", "table", "endpoint", "hashkv"]])
        {
            var (a, _) = await f.SameAsync(args);
            Assert.Equal(1, a.ExitCode);
            Assert.Contains("Error: rpc error: code = Unknown desc = auth: user name is empty\n", a.Errors, StringComparison.Ordinal);
        }
        await f.SameAsync(["--user", "root:rootpw", "endpoint", "hashkv"]);
    }

    private static Run Mask(Run r, string name) =>
        new(r.Stdout.Replace(name, "NAME", StringComparison.Ordinal), r.Stderr.Replace(name, "NAME", StringComparison.Ordinal), r.ExitCode);

    private static void AssertSame(string[] args, string stdin, Run etcdctl, Run ketchctl)
    {
        var what = $"`{string.Join(' ', args)}` with stdin {System.Text.Json.JsonSerializer.Serialize(stdin)}";
        Assert.True(etcdctl.Stdout == ketchctl.Stdout, $"stdout differs for {what}:\n--- etcdctl\n{etcdctl.Stdout}\n--- ketchctl\n{ketchctl.Stdout}");
        Assert.True(WithoutStty(etcdctl.Errors) == ketchctl.Errors, $"stderr differs for {what}:\n--- etcdctl\n{etcdctl.Errors}\n--- ketchctl\n{ketchctl.Errors}");
        Assert.True(etcdctl.ExitCode == ketchctl.ExitCode, $"exit code differs for {what}: etcdctl {etcdctl.ExitCode}, ketchctl {ketchctl.ExitCode}");
    }

    private static string WithoutStty(string errors) =>
        string.Join('\n', errors.Split('\n').Where(l => !l.StartsWith("stty: ", StringComparison.Ordinal)));
}

/// <summary><see cref="AuthPromptTests"/> on a real etcd.</summary>
public sealed class EtcdAuthPromptTests(AuthCtlFixture f) : AuthPromptTests(f), IClassFixture<AuthCtlFixture>;

/// <summary><see cref="AuthPromptTests"/> on a ketch member.</summary>
public sealed class KetchAuthPromptTests(KetchAuthCtlFixture f) : AuthPromptTests(f), IClassFixture<KetchAuthCtlFixture>;
