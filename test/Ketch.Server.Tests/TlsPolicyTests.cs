using System.Collections;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Ketch.Server.Peer;
using Ketch.Server.Tls;
using Ketch.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ketch.Server.Tests;

/// <summary>
/// The rest of etcd 3.4's TLS settings: revocation lists (<c>--client-crl-file</c>,
/// <c>--peer-crl-file</c>), the allowed peer CN or host name (<c>--peer-cert-allowed-cn</c>,
/// <c>--peer-cert-allowed-hostname</c>, <c>--client-cert-allowed-hostname</c>),
/// <c>--cipher-suites</c>, and certificate files rotated on disk while the member runs. Each
/// check is a real handshake on the member's client or peer port, followed by a request, since
/// with TLS 1.3 a refused client certificate only shows on the first read.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // CipherSuitesPolicy exists on Linux and macOS
public sealed class TlsPolicyTests : IDisposable
{
    private readonly TestPki _pki = TestPki.Create();

    public void Dispose() => _pki.Dispose();

    private static string[] Https(IReadOnlyList<string> urls) => [.. urls.Select(u => u.Replace("http://", "https://", StringComparison.Ordinal))];

    /// <summary>A single member with https client and peer URLs.</summary>
    private static Task<TestMember> StartAsync(TlsInfo client, TlsInfo peer) => TestMember.StartSingleAsync(o => o with
    {
        ListenClientUrls = Https(o.ListenClientUrls),
        AdvertiseClientUrls = Https(o.AdvertiseClientUrls),
        ListenPeerUrls = Https(o.ListenPeerUrls),
        InitialAdvertisePeerUrls = Https(o.InitialAdvertisePeerUrls),
        InitialCluster = o.InitialCluster.Replace("http://", "https://", StringComparison.Ordinal),
        ClientTls = client,
        PeerTls = peer,
    });

    private TlsInfo Member(string? caFile = null) => new()
    {
        CertFile = _pki.ServerCertFile,
        KeyFile = _pki.ServerKeyFile,
        TrustedCaFile = caFile ?? _pki.CaFile,
        ClientCertAuth = true,
    };

    /// <summary>What a handshake plus one request got: whether the member answered, its
    /// certificate, and the cipher suite.</summary>
    private sealed record Probe(bool Answered, string ServerCn, TlsCipherSuite Cipher);

    /// <summary>Connects to <paramref name="url"/> over TLS (any server certificate accepted),
    /// shows the certificate of <paramref name="certFile"/> if given, and sends a request: an
    /// HTTP/1.1 <c>GET /health</c> on the client port, the peer query on the peer port.</summary>
    private static async Task<Probe> ProbeAsync(string url, string? certFile, string? keyFile, bool peerPort = false,
        SslProtocols protocols = SslProtocols.None, CipherSuitesPolicy? cipherSuites = null, System.Net.IPAddress? from = null)
    {
        var uri = new Uri(url);
        // From a chosen loopback address when asked (the peer SAN check looks at it); else the
        // kernel's choice, 127.0.0.1.
        using var client = from is null ? new TcpClient() : new TcpClient(new System.Net.IPEndPoint(from, 0));
        await client.ConnectAsync(uri.Host, uri.Port);
        await using var ssl = new SslStream(client.GetStream());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = uri.Host,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
                ClientCertificateContext = certFile is null ? null : SslStreamCertificateContext.Create(X509Certificate2.CreateFromPemFile(certFile, keyFile), null, offline: true),
                EnabledSslProtocols = protocols,
                CipherSuitesPolicy = cipherSuites,
            }, timeout.Token);
            var cn = TlsCredentials.CommonName(new X509Certificate2(ssl.RemoteCertificate!));
            var cipher = ssl.NegotiatedCipherSuite;
            var request = peerPort ? PeerHandshake.Write(0, 0, 0) : "GET /health HTTP/1.1\r\nHost: ketch\r\nConnection: close\r\n\r\n"u8.ToArray();
            await ssl.WriteAsync(request, timeout.Token);
            var answer = new byte[64];
            var n = await ssl.ReadAsync(answer, timeout.Token);
            var answered = peerPort ? n >= 1 && answer[0] == PeerHandshake.Info : n > 0 && System.Text.Encoding.ASCII.GetString(answer, 0, n).StartsWith("HTTP/1.1 200", StringComparison.Ordinal);
            return new Probe(answered, cn, cipher);
        }
        catch (Exception e) when (e is IOException or AuthenticationException)
        {
            return new Probe(false, "", default);
        }
    }

    [Fact]
    public async Task Revoked_certificates_are_refused_on_the_client_and_peer_ports()
    {
        var revoked = _pki.Issue("revoked", "revoked member", server: true);
        var crl = Path.Combine(_pki.Dir, "revoked.crl");
        _pki.WriteCrl(crl, revoked.CertFile);
        await using var m = await StartAsync(Member() with { CrlFile = crl }, Member() with { CrlFile = crl });
        var peer = m.Options.ListenPeerUrls[0];

        Assert.True((await ProbeAsync(m.ClientUrl, _pki.ClientCertFile, _pki.ClientKeyFile)).Answered, "a good client certificate is served");
        Assert.False((await ProbeAsync(m.ClientUrl, revoked.CertFile, revoked.KeyFile)).Answered, "a revoked client certificate is refused");
        Assert.True((await ProbeAsync(peer, _pki.ServerCertFile, _pki.ServerKeyFile, peerPort: true)).Answered, "a good peer certificate is served");
        Assert.False((await ProbeAsync(peer, revoked.CertFile, revoked.KeyFile, peerPort: true)).Answered, "a revoked peer certificate is refused");

        // etcd reads the CRL file for every connection: a new list applies without restart.
        _pki.WriteCrl(crl, revoked.CertFile, _pki.ClientCertFile);
        Assert.False((await ProbeAsync(m.ClientUrl, _pki.ClientCertFile, _pki.ClientKeyFile)).Answered, "the client certificate revoked later is refused");

        var garbage = Path.Combine(_pki.Dir, "garbage.crl");
        File.WriteAllText(garbage, "not a CRL");
        var bad = Assert.Throws<ArgumentException>(() => TlsCredentials.Resolve(true, Member() with { CrlFile = garbage }, [peer], [], _pki.Dir, 1, NullLogger.Instance));
        Assert.Contains("--peer-crl-file", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Peer_certificates_must_carry_the_allowed_cn_or_hostname()
    {
        await using (var m = await StartAsync(Member(), Member() with { AllowedCn = "ketch member" }))
        {
            var peer = m.Options.ListenPeerUrls[0];
            Assert.True((await ProbeAsync(peer, _pki.ServerCertFile, _pki.ServerKeyFile, peerPort: true)).Answered, "CN 'ketch member' is allowed");
            Assert.False((await ProbeAsync(peer, _pki.ClientCertFile, _pki.ClientKeyFile, peerPort: true)).Answered, "CN 'ketch client' is not");
        }
        var named = _pki.Issue("named", "any name", server: true, dnsNames: ["peer.example", "*.wild.example"]);
        var wild = _pki.Issue("wild", "other", server: true, dnsNames: ["*.peer.example"]);
        // These names resolve nowhere, so etcd's peer SAN check (tested below) would refuse them
        // first, and would send their lookups off the machine: skip it here.
        await using (var m = await StartAsync(Member() with { AllowedHostname = "a.wild.example" }, Member() with { AllowedHostname = "peer.example", SkipClientSanVerify = true }))
        {
            var peer = m.Options.ListenPeerUrls[0];
            Assert.True((await ProbeAsync(peer, named.CertFile, named.KeyFile, peerPort: true)).Answered, "a SAN peer.example is allowed");
            Assert.False((await ProbeAsync(peer, _pki.ServerCertFile, _pki.ServerKeyFile, peerPort: true)).Answered, "a certificate for 127.0.0.1 is not");
            // Go's VerifyHostname: a wildcard stands for exactly one label.
            Assert.False((await ProbeAsync(peer, wild.CertFile, wild.KeyFile, peerPort: true)).Answered, "*.peer.example does not cover peer.example");
            // --client-cert-allowed-hostname on the client port, wildcards included.
            Assert.True((await ProbeAsync(m.ClientUrl, named.CertFile, named.KeyFile)).Answered, "*.wild.example covers a.wild.example");
            Assert.False((await ProbeAsync(m.ClientUrl, _pki.ClientCertFile, _pki.ClientKeyFile)).Answered, "the client certificate has no such name");
        }
        var both = Assert.Throws<ArgumentException>(() => TlsCredentials.Resolve(true, Member() with { AllowedCn = "a", AllowedHostname = "b" },
            ["https://127.0.0.1:1"], [], _pki.Dir, 1, NullLogger.Instance));
        Assert.Equal("AllowedCN and AllowedHostname are mutually exclusive (cn=\"a\", hostname=\"b\")", both.Message);
    }

    [Fact]
    public async Task A_peer_certificate_must_be_valid_for_the_address_it_connects_from_unless_skipped()
    {
        var five = System.Net.IPAddress.Parse("127.0.0.5");
        var onlyFive = _pki.Issue("only-five", "peer at .5", server: true, ipAddresses: [five]);
        var noSan = _pki.Issue("no-san", "peer without names", server: true, dnsNames: []);
        await using (var m = await StartAsync(Member(), Member()))
        {
            var peer = m.Options.ListenPeerUrls[0];
            Assert.False((await ProbeAsync(peer, onlyFive.CertFile, onlyFive.KeyFile, peerPort: true)).Answered, "valid for 127.0.0.5, connecting from 127.0.0.1");
            Assert.True((await ProbeAsync(peer, onlyFive.CertFile, onlyFive.KeyFile, peerPort: true, from: five)).Answered, "valid for 127.0.0.5, connecting from it");
            // The member certificate names 127.0.0.1-61 and localhost.
            Assert.True((await ProbeAsync(peer, _pki.ServerCertFile, _pki.ServerKeyFile, peerPort: true)).Answered, "IP SAN 127.0.0.1");
            Assert.True((await ProbeAsync(peer, _pki.ServerCertFile, _pki.ServerKeyFile, peerPort: true, from: five)).Answered, "IP SAN 127.0.0.5");
            // A DNS name that resolves to the address will do (localhost is 127.0.0.1 in /etc/hosts).
            var local = _pki.Issue("localhost-only", "peer at localhost", server: true, dnsNames: ["localhost"]);
            Assert.True((await ProbeAsync(peer, local.CertFile, local.KeyFile, peerPort: true)).Answered, "DNS SAN localhost from 127.0.0.1");
            Assert.False((await ProbeAsync(peer, local.CertFile, local.KeyFile, peerPort: true, from: five)).Answered, "DNS SAN localhost from 127.0.0.5");
            Assert.True((await ProbeAsync(peer, noSan.CertFile, noSan.KeyFile, peerPort: true, from: five)).Answered, "no SAN at all is not checked");
            // The client port has no such check (etcd's client listeners do not wrap it).
            Assert.True((await ProbeAsync(m.ClientUrl, onlyFive.CertFile, onlyFive.KeyFile)).Answered, "the client port ignores the SANs");
        }
        await using (var m = await StartAsync(Member(), Member() with { SkipClientSanVerify = true }))
        {
            var peer = m.Options.ListenPeerUrls[0];
            Assert.True((await ProbeAsync(peer, onlyFive.CertFile, onlyFive.KeyFile, peerPort: true)).Answered, "skipped: any address");
            Assert.False((await ProbeAsync(peer, _pki.OtherCertFile, _pki.OtherKeyFile, peerPort: true)).Answered, "skipped SANs, still a stranger's CA");
        }
    }

    [Fact]
    public async Task The_peer_san_check_reads_sans_as_etcd_does()
    {
        var five = System.Net.IPAddress.Parse("127.0.0.5");
        var one = System.Net.IPAddress.Loopback;
        var names = new Dictionary<string, System.Net.IPAddress[]> { ["a.test"] = [five], ["b.test"] = [one] };
        // A resolver with no network: unknown names fail as a failed lookup does.
        Task<System.Net.IPAddress[]> Resolve(string name, CancellationToken _) =>
            names.TryGetValue(name, out var a) ? Task.FromResult(a) : Task.FromException<System.Net.IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
        async Task<string?> Check(string[]? dns, System.Net.IPAddress[]? ips, System.Net.IPAddress from)
        {
            var (cert, _) = _pki.Issue("san-" + Guid.NewGuid().ToString("N"), "x", server: true, dnsNames: dns ?? [], ipAddresses: ips);
            using var leaf = X509Certificate2.CreateFromPem(File.ReadAllText(cert));
            return await PeerSan.CheckAsync(leaf, from, Resolve, CancellationToken.None);
        }
        Assert.Null(await Check(null, null, five));
        Assert.Null(await Check(null, [one, five], five));
        Assert.Null(await Check(null, [five], System.Net.IPAddress.Parse("127.0.0.5").MapToIPv6()));
        Assert.Equal("x509: certificate is valid for 127.0.0.1, 127.0.0.5, not 127.0.0.9", await Check(null, [one, five], System.Net.IPAddress.Parse("127.0.0.9")));
        Assert.Null(await Check(["nowhere.test", "a.test"], null, five));
        Assert.Null(await Check(["b.test"], [five], one));
        Assert.Null(await Check(["nowhere.test"], [five], five));
        Assert.Equal("tls: \"127.0.0.5\" does not match any of DNSNames [\"b.test\" \"nowhere.test\"]", await Check(["b.test", "nowhere.test"], [one], five));
    }

    [Fact]
    public async Task Cipher_suites_limit_tls_1_2_and_leave_tls_1_3_alone()
    {
        var tls = new TlsInfo { CertFile = _pki.ServerCertFile, KeyFile = _pki.ServerKeyFile, CipherSuites = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"] };
        await using var m = await StartAsync(tls, tls);
        var listed = await ProbeAsync(m.ClientUrl, null, null, protocols: SslProtocols.Tls12);
        Assert.True(listed.Answered);
        Assert.Equal(TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, listed.Cipher);
        var other = new CipherSuitesPolicy([TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]);
        Assert.False((await ProbeAsync(m.ClientUrl, null, null, protocols: SslProtocols.Tls12, cipherSuites: other)).Answered, "a TLS 1.2 suite not listed is refused");
        Assert.False((await ProbeAsync(m.Options.ListenPeerUrls[0], null, null, peerPort: true, protocols: SslProtocols.Tls12, cipherSuites: other)).Answered, "on the peer port too");
        // Go does not let TLS 1.3 suites be configured.
        var tls13 = await ProbeAsync(m.ClientUrl, null, null, protocols: SslProtocols.Tls13, cipherSuites: new CipherSuitesPolicy([TlsCipherSuite.TLS_AES_256_GCM_SHA384]));
        Assert.True(tls13.Answered);
        Assert.Equal(TlsCipherSuite.TLS_AES_256_GCM_SHA384, tls13.Cipher);
    }

    [Fact]
    public async Task Rotated_certificate_files_serve_new_handshakes()
    {
        var trusted = Path.Combine(_pki.Dir, "trusted.pem");
        File.Copy(_pki.CaFile, trusted);
        await using var m = await StartAsync(Member(trusted), Member(trusted));
        var peer = m.Options.ListenPeerUrls[0];
        Assert.Equal("ketch member", (await ProbeAsync(m.ClientUrl, _pki.ClientCertFile, _pki.ClientKeyFile)).ServerCn);
        Assert.False((await ProbeAsync(m.ClientUrl, _pki.OtherCertFile, _pki.OtherKeyFile)).Answered, "the stranger's CA is not trusted yet");

        // New certificate and key in the same files; the CA file gains the stranger's CA.
        _pki.Issue("server", "ketch member rotated", server: true);
        File.WriteAllText(trusted, File.ReadAllText(_pki.CaFile) + File.ReadAllText(_pki.OtherCaFile));
        var client = await ProbeAsync(m.ClientUrl, _pki.ClientCertFile, _pki.ClientKeyFile);
        Assert.True(client.Answered);
        Assert.Equal("ketch member rotated", client.ServerCn);
        var peerProbe = await ProbeAsync(peer, _pki.ServerCertFile, _pki.ServerKeyFile, peerPort: true);
        Assert.True(peerProbe.Answered);
        Assert.Equal("ketch member rotated", peerProbe.ServerCn);
        Assert.True((await ProbeAsync(m.ClientUrl, _pki.OtherCertFile, _pki.OtherKeyFile)).Answered, "the stranger's CA is trusted now");

        // A key file that does not load (written before its certificate, say) keeps the last good pair.
        File.WriteAllText(_pki.ServerKeyFile, "half written");
        var kept = await ProbeAsync(m.ClientUrl, _pki.ClientCertFile, _pki.ClientKeyFile);
        Assert.True(kept.Answered);
        Assert.Equal("ketch member rotated", kept.ServerCn);

        // etcdctl sees the rotated certificate too.
        _pki.Issue("server", "ketch member again", server: true);
        var get = await Etcdctl.RunAsync(m.ClientUrl, $"--cacert {_pki.CaFile} --cert {_pki.ClientCertFile} --key {_pki.ClientKeyFile} endpoint health --dial-timeout=3s", timeoutSeconds: 30);
        Assert.True(get.Exit == 0, get.Err);
        Assert.Equal("ketch member again", (await ProbeAsync(m.ClientUrl, _pki.ClientCertFile, _pki.ClientKeyFile)).ServerCn);
    }

    [Fact]
    public async Task New_tls_flags_env_and_config_file_have_etcds_names()
    {
        static KetchServerOptions Parse(string[] args, IDictionary? env = null) =>
            ServerFlags.ToOptions(ServerFlags.ParseRaw(args, env ?? new Hashtable()));
        var o = Parse(["--client-crl-file", "/c.crl", "--peer-crl-file=/p.crl", "--peer-cert-allowed-cn", "member",
            "--client-cert-allowed-hostname", "client.example", "--cipher-suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"]);
        string[] suites = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"];
        Assert.Equal(("/c.crl", "", "client.example"), (o.ClientTls.CrlFile, o.ClientTls.AllowedCn, o.ClientTls.AllowedHostname));
        Assert.Equal(("/p.crl", "member", ""), (o.PeerTls.CrlFile, o.PeerTls.AllowedCn, o.PeerTls.AllowedHostname));
        Assert.Equal(suites, o.ClientTls.CipherSuites);
        Assert.Equal(suites, o.PeerTls.CipherSuites);
        Assert.False(o.PeerTls.SkipClientSanVerify);
        Assert.True(Parse(["--experimental-peer-skip-client-san-verification"]).PeerTls.SkipClientSanVerify);
        Assert.True(Parse([], new Hashtable { ["ETCD_EXPERIMENTAL_PEER_SKIP_CLIENT_SAN_VERIFICATION"] = "true" }).PeerTls.SkipClientSanVerify);

        var e = Parse([], new Hashtable { ["ETCD_PEER_CERT_ALLOWED_HOSTNAME"] = "peer.example", ["ETCD_CLIENT_CRL_FILE"] = "/e.crl", ["ETCD_CIPHER_SUITES"] = "TLS_AES_128_GCM_SHA256" });
        Assert.Equal("peer.example", e.PeerTls.AllowedHostname);
        Assert.Equal("/e.crl", e.ClientTls.CrlFile);
        Assert.Equal(["TLS_AES_128_GCM_SHA256"], e.PeerTls.CipherSuites);

        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "etcd.yml");
        File.WriteAllText(path, """
            peer-crl-file: /f.crl
            peer-cert-allowed-cn: from-file
            experimental-peer-skip-client-san-verification: true
            cipher-suites:
              - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
              - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
            """);
        var f = Parse(["--config-file", path]);
        Assert.Equal(("/f.crl", "from-file", true), (f.PeerTls.CrlFile, f.PeerTls.AllowedCn, f.PeerTls.SkipClientSanVerify));
        Assert.Equal(["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"], f.ClientTls.CipherSuites);

        var help = ServerFlags.Usage();
        foreach (var name in new[] { "client-crl-file", "peer-crl-file", "peer-cert-allowed-cn", "peer-cert-allowed-hostname", "client-cert-allowed-hostname", "cipher-suites" })
        {
            Assert.Contains("--" + name + " ''", help, StringComparison.Ordinal);
        }

        // etcd: `C | etcdmain: unexpected TLS cipher suite "FOO"` and exit 1, whatever the URLs.
        var unknown = Assert.Throws<ArgumentException>(() => Parse(["--cipher-suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,FOO"]));
        Assert.Equal("unexpected TLS cipher suite \"FOO\"", unknown.Message);
        var run = await TlsTests.RunKetchAsync(dir.Path, "--data-dir", Path.Combine(dir.Path, "data"), "--cipher-suites", "TLS_RSA_WITH_NULL_SHA");
        Assert.NotEqual(0, run.Exit);
        Assert.Contains("unexpected TLS cipher suite \"TLS_RSA_WITH_NULL_SHA\"", run.Err, StringComparison.Ordinal);
    }
}
