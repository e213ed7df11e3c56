using System.Text;
using System.Text.RegularExpressions;

namespace Ketch.Server.Tests;

/// <summary>Stock etcdctl 3.4's auth, user and role commands against a ketch member and a real etcd:
/// the same script, outputs (stdout, stderr without clientv3's retry warnings, exit codes) compared
/// after masking ids.</summary>
public sealed partial class EtcdctlAuthTests(CompatFixture fx) : IClassFixture<CompatFixture>
{
    /// <summary>Each line: arguments, then optionally <c>&lt;&lt;&lt; stdin</c>.</summary>
    private static readonly string[] s_script =
    [
        "user add root --new-user-password=rootpw",
        "user add root --new-user-password=x",
        "user add alice:apw",
        "user add bob --interactive=false <<< bobpw",
        "user list",
        "user get root",
        "user get nobody",
        "role add r1",
        "role add r1",
        "role list",
        "role get r1",
        "role grant-permission r1 readwrite /b --prefix",
        "role grant-permission r1 read /a",
        "role grant-permission r1 write /c --from-key",
        "role grant-permission r1 write /d /f",
        "role grant-permission r1 read /a",
        "role grant-permission nope read /a",
        "role grant-permission r1 bogus /a",
        "role get r1",
        "-w json role get r1",
        "-w fields role get r1",
        "-w fields role list",
        "-w json user list",
        "role revoke-permission r1 /zz",
        "role revoke-permission r1 /d /f",
        "role revoke-permission r1 /c --from-key",
        "user grant-role alice r1",
        "user grant-role alice nope",
        "user grant-role nobody r1",
        "user get alice",
        "user get alice --detail",
        "-w json user get alice",
        "user revoke-role alice root",
        "user passwd bob --interactive=false <<< bobpw2",
        "put /b/x 1",
        "put /c 1",
        "auth enable",
        "auth enable",
        "put /b/x 1",
        "get /b/x",
        "--user alice:wrong put /b/x 1",
        "--user nobody:x get /b/x",
        "--user alice:apw put /b/x 2",
        "--user alice --password apw get /b/x",
        "--user alice:apw put /a 1",
        "--user alice:apw get /a",
        "--user alice:apw get /c",
        "--user alice:apw get /b --prefix",
        "--user alice:apw get / --prefix",
        "--user alice:apw del /b/x",
        "--user alice:apw txn <<< \n\nput /b/y 1\n\n",
        "--user alice:apw txn <<< \n\nput /c 1\n\n",
        "--user alice:apw user list",
        "--user alice:apw user get alice",
        "--user alice:apw user get root",
        "--user alice:apw role get r1",
        "--user alice:apw member add x --peer-urls=http://127.0.0.99:1",
        "--user alice:apw auth disable",
        "--user bob:bobpw2 get /b/y",
        "--user root:rootpw user delete root",
        "--user root:rootpw user revoke-role root root",
        "--user root:rootpw role delete root",
        "--user root:rootpw auth enable",
        "--user root:rootpw user get root --detail",
        "--user root:rootpw get /b --prefix",
        "--user root:rootpw -w json user add carol:x",
        "--user root:rootpw -w fields user delete carol",
        "--user root:rootpw -w table user list",
        "--user root:rootpw role delete r1",
        "--user root:rootpw user get alice",
        "--user root:rootpw auth disable",
        "auth disable",
        "put /b/x 3",
        "user delete root",
        "auth enable",
        "user add root:rootpw",
        "auth enable",
        "--user root:rootpw role list",
        "--user root:rootpw auth disable",
    ];

    [Fact]
    public async Task Auth_user_and_role_commands_match_etcd()
    {
        var ketch = await RunScriptAsync(fx.KetchEndpoint);
        var etcd = await RunScriptAsync(fx.Etcd.Endpoint);
        for (var i = 0; i < s_script.Length; i++)
        {
            Assert.True(etcd[i] == ketch[i], $"step {i}: etcdctl {s_script[i]}\n--- etcd ---\n{etcd[i]}\n--- ketch ---\n{ketch[i]}");
        }
    }

    private static async Task<List<string>> RunScriptAsync(string endpoint)
    {
        var results = new List<string>();
        foreach (var line in s_script)
        {
            var parts = line.Split(" <<< ", 2);
            var (exit, stdout, stderr) = await Etcdctl.RunAsync(endpoint, parts[0], parts.Length > 1 ? parts[1] + "\n" : null);
            var err = string.Join("\n", stderr.Split('\n').Where(l => !l.StartsWith("{\"level\":\"warn\"", StringComparison.Ordinal)));
            results.Add(Mask($"exit {exit}\n{stdout}{err}"));
        }
        return results;
    }

    private static string Mask(string s)
    {
        s = Header().Replace(s, "\"header\":{}");
        return Fields().Replace(s, "\"$1\" : N");
    }

    [GeneratedRegex("\"header\":\\{[^}]*\\}")]
    private static partial Regex Header();

    [GeneratedRegex("\"(ClusterID|MemberID|Revision|RaftTerm)\" : [0-9]+")]
    private static partial Regex Fields();
}
