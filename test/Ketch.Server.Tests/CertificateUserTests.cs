using Ketch.Server.Tls;
using Ketch.Testing;

namespace Ketch.Server.Tests;

/// <summary>
/// etcd 3.4's <c>AuthInfoFromTLS</c>: with <c>--client-cert-auth</c> and auth enabled, a request
/// without a token acts as the user named by its client certificate's Common Name. One etcdctl
/// script, run against ketch and against real etcd with the same certificates; the answers
/// (output, <c>Error:</c> lines, exit codes) must be the same.
/// </summary>
public sealed class CertificateUserTests : IDisposable
{
    private readonly TestPki _pki = TestPki.Create();

    public void Dispose() => _pki.Dispose();

    [Fact]
    public async Task A_client_certificate_cn_is_the_user_as_with_etcd()
    {
        Etcdctl.Require();
        var users = new Dictionary<string, (string Cert, string Key)>
        {
            ["reader"] = _pki.Issue("cn-someuser", "someuser"),
            ["root"] = _pki.Issue("cn-root", "root"),
            ["nobody"] = _pki.Issue("cn-nobody", "nosuchuser"),
        };
        string Tls(string who) => $"--cacert {_pki.CaFile} --cert {users[who].Cert} --key {users[who].Key}";
        // Set up as root with a password (auth still off), then: what each certificate may do.
        var script = new (string Who, string Args)[]
        {
            ("root", "user add root:rootpw"),
            ("root", "role add reader"),
            ("root", "role grant-permission reader --prefix=true read /app/"),
            ("root", "user add someuser:userpw"),
            ("root", "user grant-role someuser reader"),
            ("root", "put /app/x 1"),
            ("root", "auth enable"),
            ("reader", "get /app/x"),
            ("reader", "put /app/x 2"),
            ("reader", "get /other"),
            ("reader", "user list"),
            ("nobody", "get /app/x"),
            ("root", "put /other v"),
            ("root", "user list"),
            // A token wins over the certificate: the password's user acts.
            ("reader", "--user root:rootpw put /app/x 3"),
            ("reader", "get /app/x --print-value-only"),
            ("root", "auth disable"),
        };
        var tls = new TlsInfo { CertFile = _pki.ServerCertFile, KeyFile = _pki.ServerKeyFile, TrustedCaFile = _pki.CaFile, ClientCertAuth = true };
        List<string> ketch;
        await using (var m = await TestMember.StartSingleAsync(o => o with
        {
            ListenClientUrls = [.. o.ListenClientUrls.Select(u => u.Replace("http://", "https://", StringComparison.Ordinal))],
            AdvertiseClientUrls = [.. o.AdvertiseClientUrls.Select(u => u.Replace("http://", "https://", StringComparison.Ordinal))],
            ClientTls = tls,
        }))
        {
            ketch = await RunAsync(m.ClientUrl, script, Tls);
        }
        List<string> etcd;
        await using (var reference = await EtcdProcess.StartHttpsAsync(
            async url => (await Etcdctl.RunAsync(url, $"{Tls("root")} endpoint health --dial-timeout=2s", timeoutSeconds: 15)).Exit == 0,
            "--cert-file", _pki.ServerCertFile, "--key-file", _pki.ServerKeyFile, "--trusted-ca-file", _pki.CaFile, "--client-cert-auth"))
        {
            etcd = await RunAsync("https://" + reference.Endpoint, script, Tls);
        }
        Assert.Equal(etcd, ketch);
        // What the script shows, so that equal answers also mean the right ones.
        var text = string.Join("\n", ketch) + "\n";
        Assert.True(text.Contains("reader: get /app/x => 0 /app/x|1\n", StringComparison.Ordinal), text);
        Assert.True(text.Contains("reader: put /app/x 2 => 1 Error: etcdserver: permission denied\n", StringComparison.Ordinal), text);
        Assert.True(text.Contains("nobody: get /app/x => 1 Error: etcdserver: permission denied\n", StringComparison.Ordinal), text);
        Assert.True(text.Contains("root: put /other v => 0 OK\n", StringComparison.Ordinal), text);
        Assert.True(text.Contains("reader: get /app/x --print-value-only => 0 3\n", StringComparison.Ordinal), text);
    }

    /// <summary>Each step as one line: who, the command, the exit code, stdout and the
    /// <c>Error:</c> lines of stderr (etcdctl's own log lines left out).</summary>
    private static async Task<List<string>> RunAsync(string endpoint, (string Who, string Args)[] script, Func<string, string> tls)
    {
        var lines = new List<string>();
        foreach (var (who, args) in script)
        {
            var r = await Etcdctl.RunAsync(endpoint, $"{tls(who)} {args} --dial-timeout=3s --command-timeout=5s", timeoutSeconds: 30);
            var errors = r.Err.Split('\n').Where(l => l.StartsWith("Error:", StringComparison.Ordinal));
            var output = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Concat(errors);
            lines.Add($"{who}: {args} => {r.Exit} {string.Join("|", output)}".TrimEnd());
        }
        return lines;
    }
}
