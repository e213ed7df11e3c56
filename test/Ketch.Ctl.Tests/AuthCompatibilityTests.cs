using System.Text.RegularExpressions;
using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary>
/// ketchctl's auth, user and role commands against etcdctl 3.4's, both on a real etcd: the same
/// script runs with etcdctl on one fresh etcd and with ketchctl on another; every step's stdout,
/// error text and exit code must match (headers masked: the clusters differ).
/// </summary>
public sealed partial class AuthCompatibilityTests
{
    private static readonly string[] s_script =
    [
        "user add root --new-user-password=rootpw",
        "user add root --new-user-password=x",
        "user add alice:apw",
        "user add bob --interactive=false <<< bobpw",
        "user add :x",
        "user add",
        "user list",
        "-w json user list",
        "-w fields user list",
        "user get root",
        "user get nobody",
        "role add r1",
        "role add r1",
        "role list",
        "-w fields role list",
        "role get r1",
        "role grant-permission r1 readwrite /b --prefix",
        "role grant-permission r1 read /a",
        "role grant-permission r1 write /c --from-key",
        "role grant-permission r1 write /d /f",
        "role grant-permission r1 write /d /f --prefix",
        "role grant-permission r1 read",
        "role grant-permission nope read /a",
        "role grant-permission r1 bogus /a",
        "role get r1",
        "-w json role get r1",
        "-w fields role get r1",
        "-w table role get r1",
        "role revoke-permission r1 /zz",
        "role revoke-permission r1 /d /f",
        "role revoke-permission r1 /c --from-key",
        "role revoke-permission r1 /a",
        "user grant-role alice r1",
        "-w json user grant-role bob r1",
        "user grant-role alice nope",
        "user grant-role nobody r1",
        "user get alice",
        "user get alice --detail",
        "-w json user get alice",
        "user revoke-role alice root",
        "-w fields user revoke-role bob r1",
        "user passwd bob --interactive=false <<< bobpw2",
        "put /b/x 1",
        "auth enable",
        "auth enable",
        "put /b/x 1",
        "get /b/x",
        "--user alice:wrong get /b/x",
        "--user alice:apw put /b/x 2",
        "--user alice --password apw get /b/x",
        "--user alice:apw put /a 1",
        "--user alice:apw get / --prefix",
        "--user alice:apw user list",
        "--user alice:apw user get alice",
        "--user alice:apw role get r1",
        "--user alice:apw auth disable",
        "--user bob:bobpw2 get /b/x",
        "--user root:rootpw user delete root",
        "--user root:rootpw user revoke-role root root",
        "--user root:rootpw role delete root",
        "--user root:rootpw user get root --detail",
        "--user root:rootpw -w json user add carol:x",
        "--user root:rootpw -w fields user delete carol",
        "--user root:rootpw role delete r1",
        "--user root:rootpw user delete alice",
        "--user root:rootpw auth disable",
        "auth disable",
        "user delete root",
        "auth enable",
        "user add root:rootpw",
        "auth enable",
        "--user root:rootpw role list",
        "--user root:rootpw auth disable",
    ];

    [Fact]
    public async Task Auth_user_and_role_commands_print_what_etcdctl_prints()
    {
        Tools.Require("etcdctl", "etcd-client");
        await using var a = await EtcdClusterProvider.Instance.StartAsync(1);
        await using var b = await EtcdClusterProvider.Instance.StartAsync(1);
        foreach (var line in s_script)
        {
            var parts = line.Split(" <<< ", 2);
            var args = parts[0].Length == 0 ? [] : parts[0].Split(' ');
            var stdin = parts.Length > 1 ? parts[1] + "\n" : "";
            var etcdctl = await EtcdctlAsync(a.Endpoints[0], args, stdin);
            var ketchctl = await KetchctlAsync(b.Endpoints[0], args, stdin);
            if (etcdctl.Stdout.StartsWith("NAME:\n", StringComparison.Ordinal))
            {
                // A usage error: cobra prints the help text too; compare the error.
                Assert.Equal(etcdctl.Errors.Split('\n')[0], ketchctl.Errors.Split('\n')[0]);
            }
            else
            {
                Assert.True(Mask(etcdctl.Stdout) == Mask(ketchctl.Stdout), $"stdout differs for `{line}`:\n--- etcdctl\n{etcdctl.Stdout}\n--- ketchctl\n{ketchctl.Stdout}\n{ketchctl.Stderr}");
                Assert.True(etcdctl.Errors == ketchctl.Errors, $"stderr differs for `{line}`:\n--- etcdctl\n{etcdctl.Errors}\n--- ketchctl\n{ketchctl.Errors}");
            }
            Assert.True(etcdctl.ExitCode == ketchctl.ExitCode, $"exit code differs for `{line}`: etcdctl {etcdctl.ExitCode}, ketchctl {ketchctl.ExitCode}");
        }
    }

    private static Task<Run> EtcdctlAsync(string endpoint, string[] args, string stdin) =>
        Clis.EtcdctlAsync(["--endpoints=" + endpoint, .. args], stdin);

    private static Task<Run> KetchctlAsync(string endpoint, string[] args, string stdin) =>
        Clis.KetchctlAsync(["--endpoints=" + endpoint, .. args], stdin);

    private static string Mask(string s) => Fields().Replace(Header().Replace(s, "\"header\":{}"), "\"$1\" : N");

    [GeneratedRegex("\"header\":\\{[^}]*\\}")]
    private static partial Regex Header();

    [GeneratedRegex("\"(ClusterID|MemberID|Revision|RaftTerm)\" : [0-9]+")]
    private static partial Regex Fields();
}
