using System.Collections;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Grpc.Net.Client;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Peer;
using Ketch.Server.Tls;
using Ketch.Testing;

namespace Ketch.Server.Tests;

/// <summary>
/// TLS as etcd does it: https client URLs serving gRPC and HTTP/1.1 on one port, client
/// certificate authentication, https peer URLs between members, auto TLS, the flags, and the
/// errors for settings that do not fit together. Certificates come from <see cref="TestPki"/>.
/// </summary>
public sealed class TlsTests : IDisposable
{
    private readonly TestPki _pki = TestPki.Create();

    public void Dispose() => _pki.Dispose();

    private TlsInfo ServerTls(bool clientCertAuth = false, bool withCa = false) => new()
    {
        CertFile = _pki.ServerCertFile,
        KeyFile = _pki.ServerKeyFile,
        TrustedCaFile = withCa || clientCertAuth ? _pki.CaFile : "",
        ClientCertAuth = clientCertAuth,
    };

    private static string[] Https(IReadOnlyList<string> urls) => [.. urls.Select(u => u.Replace("http://", "https://", StringComparison.Ordinal))];

    private static KetchServerOptions HttpsClient(KetchServerOptions o, TlsInfo tls) => o with
    {
        ListenClientUrls = Https(o.ListenClientUrls),
        AdvertiseClientUrls = Https(o.AdvertiseClientUrls),
        ClientTls = tls,
    };

    /// <summary>A handler that trusts only the test CA, optionally showing a client certificate.</summary>
    private static SocketsHttpHandler Handler(string caFile, string? certFile = null, string? keyFile = null)
    {
        var ca = new X509Certificate2Collection();
        ca.ImportFromPemFile(caFile);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, errors) =>
        {
            if (cert is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                return false;
            }
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(ca);
            return chain.Build(new X509Certificate2(cert));
        };
        if (certFile is not null && keyFile is not null)
        {
            handler.SslOptions.ClientCertificateContext = SslStreamCertificateContext.Create(X509Certificate2.CreateFromPemFile(certFile, keyFile), null, offline: true);
        }
        return handler;
    }

    private static GrpcChannel Channel(string url, SocketsHttpHandler handler) =>
        GrpcChannel.ForAddress(url, new GrpcChannelOptions { HttpHandler = handler });

    private static Task<(int Exit, string Out, string Err)> EtcdctlAsync(string endpoint, string args) =>
        Etcdctl.RunAsync(endpoint, args + " --dial-timeout=3s --command-timeout=5s", timeoutSeconds: 30);

    [Fact]
    public async Task Https_client_url_serves_etcdctl_and_http1_on_one_port()
    {
        await using var m = await TestMember.StartSingleAsync(o => HttpsClient(o, ServerTls()));
        var url = m.ClientUrl;
        Assert.StartsWith("https://", url, StringComparison.Ordinal);
        var put = await EtcdctlAsync(url, $"--cacert {_pki.CaFile} put tls-key tls-value");
        Assert.True(put.Exit == 0, put.Err);
        Assert.Equal("OK\n", put.Out);
        // Without a scheme, --cacert alone makes etcdctl use TLS.
        var get = await EtcdctlAsync(url.Replace("https://", "", StringComparison.Ordinal), $"--cacert {_pki.CaFile} get tls-key");
        Assert.True(get.Exit == 0, get.Err);
        Assert.Equal("tls-key\ntls-value\n", get.Out);
        // etcdctl does not trust the member without the CA.
        Assert.NotEqual(0, (await EtcdctlAsync(url, "get tls-key")).Exit);

        // HTTP/1.1 and HTTP/2 (ALPN) on the same port.
        using var http = new HttpClient(Handler(_pki.CaFile));
        foreach (var version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url + "/health") { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(version, response.Version);
            Assert.Contains("\"health\":\"true\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var version3 = await http.GetStringAsync(url + "/version");
        Assert.Contains("etcdserver", version3, StringComparison.Ordinal);

        // Plaintext to the TLS port gets no answer.
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetStringAsync(url.Replace("https://", "http://", StringComparison.Ordinal) + "/health"));
    }

    [Fact]
    public async Task Client_cert_auth_refuses_clients_without_a_trusted_certificate()
    {
        await using var m = await TestMember.StartSingleAsync(o => HttpsClient(o, ServerTls(clientCertAuth: true)));
        var url = m.ClientUrl;
        var noCert = await EtcdctlAsync(url, $"--cacert {_pki.CaFile} put k v");
        Assert.NotEqual(0, noCert.Exit);
        var stranger = await EtcdctlAsync(url, $"--cacert {_pki.CaFile} --cert {_pki.OtherCertFile} --key {_pki.OtherKeyFile} put k v");
        Assert.NotEqual(0, stranger.Exit);
        var ok = await EtcdctlAsync(url, $"--cacert {_pki.CaFile} --cert {_pki.ClientCertFile} --key {_pki.ClientKeyFile} put k v");
        Assert.True(ok.Exit == 0, ok.Err);
        Assert.Equal("k\nv\n", (await EtcdctlAsync(url, $"--cacert {_pki.CaFile} --cert {_pki.ClientCertFile} --key {_pki.ClientKeyFile} get k")).Out);

        using (var withCert = new HttpClient(Handler(_pki.CaFile, _pki.ClientCertFile, _pki.ClientKeyFile)))
        {
            Assert.Contains("\"health\":\"true\"", await withCert.GetStringAsync(url + "/health"), StringComparison.Ordinal);
        }
        using var withoutCert = new HttpClient(Handler(_pki.CaFile)) { Timeout = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => withoutCert.GetStringAsync(url + "/health"));
    }

    [Fact]
    public async Task Trusted_ca_file_alone_requires_client_certificates_as_etcd_3_4()
    {
        await using var m = await TestMember.StartSingleAsync(o => HttpsClient(o, ServerTls(withCa: true)));
        Assert.NotEqual(0, (await EtcdctlAsync(m.ClientUrl, $"--cacert {_pki.CaFile} put k v")).Exit);
        var ok = await EtcdctlAsync(m.ClientUrl, $"--cacert {_pki.CaFile} --cert {_pki.ClientCertFile} --key {_pki.ClientKeyFile} put k v");
        Assert.True(ok.Exit == 0, ok.Err);
    }

    [Fact]
    public async Task Tls_min_and_max_versions_bound_what_clients_may_use()
    {
        async Task<bool> Connects(string url, System.Security.Authentication.SslProtocols protocols)
        {
            var handler = Handler(_pki.CaFile);
            handler.SslOptions.EnabledSslProtocols = protocols;
            using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
            try
            {
                return (await http.GetAsync(url + "/health")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }

        await using (var only13 = await TestMember.StartSingleAsync(o => HttpsClient(o, ServerTls() with { MinVersion = "TLS1.3" })))
        {
            Assert.False(await Connects(only13.ClientUrl, System.Security.Authentication.SslProtocols.Tls12));
            Assert.True(await Connects(only13.ClientUrl, System.Security.Authentication.SslProtocols.Tls13));
        }
        await using var only12 = await TestMember.StartSingleAsync(o => HttpsClient(o, ServerTls() with { MaxVersion = "TLS1.2" }));
        Assert.False(await Connects(only12.ClientUrl, System.Security.Authentication.SslProtocols.Tls13));
        Assert.True(await Connects(only12.ClientUrl, System.Security.Authentication.SslProtocols.Tls12));
    }

    [Fact]
    public async Task Peers_dial_with_the_peer_client_certificate_when_one_is_given()
    {
        // The peer CRL revokes the member certificate: a listener refuses a dialer that shows it,
        // so the cluster forms only if every member dials with --peer-client-cert-file.
        var (dialCert, dialKey) = _pki.Issue("peer-dialer", "peer dialer");
        var crl = Path.Combine(_pki.Dir, "peer.crl");
        _pki.WriteCrl(crl, _pki.ServerCertFile);
        var tls = ServerTls(clientCertAuth: true) with { ClientCertFile = dialCert, ClientKeyFile = dialKey, CrlFile = crl };
        await using var cluster = await TestCluster.StartAsync(3, "tls-dialer", o => o with
        {
            ListenPeerUrls = Https(o.ListenPeerUrls),
            InitialAdvertisePeerUrls = Https(o.InitialAdvertisePeerUrls),
            InitialCluster = o.InitialCluster.Replace("http://", "https://", StringComparison.Ordinal),
            PeerTls = tls,
        });
        var leader = await cluster.LeaderAsync();
        await TestCluster.PutAsync(leader, "dialer", "yes");
        var peer = new Uri(leader.Options.ListenPeerUrls[0]);
        Assert.Equal(PeerHandshake.Info, await PeerQueryAsync(peer, dialCert, dialKey));
        Assert.Null(await PeerQueryAsync(peer, _pki.ServerCertFile, _pki.ServerKeyFile));
    }

    [Fact]
    public async Task Three_members_over_https_peer_urls_elect_a_leader_and_replicate()
    {
        var tls = ServerTls(clientCertAuth: true);
        // Election happens inside StartAsync (each member waits for a leader).
        await using var cluster = await TestCluster.StartAsync(3, "tls-cluster", o => HttpsClient(o, tls) with
        {
            ListenPeerUrls = Https(o.ListenPeerUrls),
            InitialAdvertisePeerUrls = Https(o.InitialAdvertisePeerUrls),
            InitialCluster = o.InitialCluster.Replace("http://", "https://", StringComparison.Ordinal),
            PeerTls = tls,
        });
        var leader = await cluster.LeaderAsync();
        var follower = cluster.Members.First(m => m != leader);
        var channels = cluster.Members.ToDictionary(m => m, m => Channel(m.ClientUrl, Handler(_pki.CaFile, _pki.ClientCertFile, _pki.ClientKeyFile)));
        try
        {
            // A write on a follower goes to the leader through Raft, over the TLS peer links.
            await new KV.KVClient(channels[follower]).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("replicated"), Value = ByteString.CopyFromUtf8("yes") });
            foreach (var m in cluster.Members)
            {
                var kv = new KV.KVClient(channels[m]);
                await TestNet.WaitUntil(async () =>
                {
                    var r = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("replicated"), Serializable = true });
                    return r.Kvs.Count == 1 && r.Kvs[0].Value.ToStringUtf8() == "yes";
                }, TimeSpan.FromSeconds(10), $"{m.Options.Name} to apply the write");
            }
            // A keep-alive on a follower is answered by the leader: the follower dials the
            // leader's https client URL with its own certificate.
            var grant = await new Ketch.Api.Etcdserverpb.Lease.LeaseClient(channels[leader]).LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 });
            using var keepAlive = new Ketch.Api.Etcdserverpb.Lease.LeaseClient(channels[follower]).LeaseKeepAlive();
            await keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = grant.ID });
            Assert.True(await keepAlive.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(grant.ID, keepAlive.ResponseStream.Current.ID);
            Assert.True(keepAlive.ResponseStream.Current.TTL > 0, "the leader renewed the lease");
            await keepAlive.RequestStream.CompleteAsync();

            // The peer port: a member certificate gets an answer; a stranger's certificate or none does not.
            var peer = new Uri(leader.Options.ListenPeerUrls[0]);
            Assert.Equal(PeerHandshake.Info, await PeerQueryAsync(peer, _pki.ServerCertFile, _pki.ServerKeyFile));
            Assert.Null(await PeerQueryAsync(peer, _pki.OtherCertFile, _pki.OtherKeyFile));
            Assert.Null(await PeerQueryAsync(peer, null, null));
        }
        finally
        {
            foreach (var c in channels.Values)
            {
                c.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_member_behind_catches_up_by_a_snapshot_streamed_over_tls()
    {
        await using var cluster = await TestCluster.StartAsync(3, "tls-snapshot", o => o with
        {
            ListenPeerUrls = Https(o.ListenPeerUrls),
            InitialAdvertisePeerUrls = Https(o.InitialAdvertisePeerUrls),
            InitialCluster = o.InitialCluster.Replace("http://", "https://", StringComparison.Ordinal),
            PeerTls = ServerTls(clientCertAuth: true),
            SnapshotCount = 20,
            SnapshotCatchUpEntries = 5,
        });
        var leader = await cluster.LeaderAsync();
        var lagging = cluster.Members.First(m => m != leader);
        await lagging.StopAsync();
        for (var i = 0; i < 60; i++)
        {
            await TestCluster.PutAsync(leader, $"snap/{i:D2}", "v");
        }
        await lagging.RestartAsync();
        await TestNet.WaitUntil(async () =>
            (await lagging.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("snap/"), RangeEnd = ByteString.CopyFromUtf8("snap0"), CountOnly = true, Serializable = true })).Count == 60,
            TimeSpan.FromSeconds(30), "the lagging member to catch up");
        Assert.Single(Directory.GetFiles(Path.Combine(lagging.Options.DataDir, "member", "snap-in")));
    }

    /// <summary>Sends the peer query handshake over TLS with the given client certificate; the
    /// answer's first byte, or null when the member refused (handshake failed or closed).</summary>
    private static async Task<byte?> PeerQueryAsync(Uri peer, string? certFile, string? keyFile)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(peer.Host, peer.Port);
        await using var ssl = new SslStream(client.GetStream());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = peer.Host,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
                ClientCertificateContext = certFile is null ? null : SslStreamCertificateContext.Create(X509Certificate2.CreateFromPemFile(certFile, keyFile), null, offline: true),
            }, timeout.Token);
            await ssl.WriteAsync(PeerHandshake.Write(0, 0, 0), timeout.Token);
            var answer = new byte[1];
            return await ssl.ReadAsync(answer, timeout.Token) == 1 ? answer[0] : null;
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
        {
            return null;
        }
    }

    [Fact]
    public void Tls_flags_env_and_config_file_have_etcds_names()
    {
        static KetchServerOptions Parse(string[] args, IDictionary? env = null) =>
            ServerFlags.ToOptions(ServerFlags.ParseRaw(args, env ?? new Hashtable()));
        var d = Parse([]);
        Assert.Equal(new TlsInfo(), d.ClientTls);
        Assert.Equal(new TlsInfo(), d.PeerTls);
        Assert.Equal(1, d.SelfSignedCertValidityYears);

        var o = Parse(["--cert-file", "/c.pem", "--key-file=/k.pem", "--client-cert-auth", "--trusted-ca-file", "/ca.pem", "--auto-tls",
            "--peer-cert-file", "/pc.pem", "--peer-key-file", "/pk.pem", "--peer-trusted-ca-file=/pca.pem", "--self-signed-cert-validity", "3"],
            new Hashtable { ["ETCD_PEER_CLIENT_CERT_AUTH"] = "true", ["ETCD_PEER_AUTO_TLS"] = "true" });
        Assert.Equal(new TlsInfo { CertFile = "/c.pem", KeyFile = "/k.pem", ClientCertAuth = true, TrustedCaFile = "/ca.pem", AutoTls = true }, o.ClientTls);
        Assert.Equal(new TlsInfo { CertFile = "/pc.pem", KeyFile = "/pk.pem", ClientCertAuth = true, TrustedCaFile = "/pca.pem", AutoTls = true }, o.PeerTls);
        Assert.Equal(3, o.SelfSignedCertValidityYears);

        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "etcd.yml");
        File.WriteAllText(path, """
            name: tls
            self-signed-cert-validity: 2
            client-transport-security:
              cert-file: /etc/c.pem
              key-file: /etc/k.pem
              client-cert-auth: true
              trusted-ca-file: /etc/ca.pem
              auto-tls: false
            peer-transport-security:
              cert-file: /etc/pc.pem
              key-file: /etc/pk.pem
              client-cert-auth: false
              trusted-ca-file:
              auto-tls: true
            """);
        var f = Parse(["--config-file", path]);
        Assert.Equal(new TlsInfo { CertFile = "/etc/c.pem", KeyFile = "/etc/k.pem", ClientCertAuth = true, TrustedCaFile = "/etc/ca.pem" }, f.ClientTls);
        Assert.Equal(new TlsInfo { CertFile = "/etc/pc.pem", KeyFile = "/etc/pk.pem", AutoTls = true }, f.PeerTls);
        Assert.Equal(2, f.SelfSignedCertValidityYears);

        var help = ServerFlags.Usage();
        foreach (var name in new[] { "cert-file", "key-file", "client-cert-auth", "trusted-ca-file", "auto-tls", "peer-cert-file", "peer-key-file",
            "peer-client-cert-auth", "peer-trusted-ca-file", "peer-auto-tls", "self-signed-cert-validity" })
        {
            Assert.Contains("--" + name + (name.EndsWith("auth", StringComparison.Ordinal) || name.EndsWith("auto-tls", StringComparison.Ordinal) ? "\n" : " '"), help, StringComparison.Ordinal);
        }
        var zero = Assert.Throws<ArgumentException>(() => Parse(["--auto-tls", "--self-signed-cert-validity=0"]));
        Assert.Contains("--self-signed-cert-validity", zero.Message, StringComparison.Ordinal);
    }

    internal static async Task<(int Exit, string Out, string Err)> RunKetchAsync(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ketch.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"ketch {string.Join(' ', args)} did not exit: it should have refused to start");
        }
        return (p.ExitCode, await o, await e);
    }

    [Fact]
    public async Task Settings_that_do_not_fit_together_stop_ketch_with_a_clear_message()
    {
        using var dir = new TempDir();
        var client = $"127.0.0.1:{TestNet.FreePort()}";
        var peer = $"127.0.0.1:{TestNet.FreePort()}";
        string[] Urls(string clientScheme, string peerScheme) =>
        [
            "--data-dir", Path.Combine(dir.Path, "data"),
            "--listen-client-urls", $"{clientScheme}://{client}", "--advertise-client-urls", $"{clientScheme}://{client}",
            "--listen-peer-urls", $"{peerScheme}://{peer}", "--initial-advertise-peer-urls", $"{peerScheme}://{peer}",
            "--initial-cluster", $"default={peerScheme}://{peer}",
        ];
        var cases = new (string[] Args, string Message)[]
        {
            (Urls("https", "http"), $"client URL https://{client} uses https: --cert-file and --key-file must be given (or --auto-tls)"),
            (Urls("http", "https"), $"peer URL https://{peer} uses https: --peer-cert-file and --peer-key-file must be given (or --peer-auto-tls)"),
            ([.. Urls("https", "http"), "--cert-file", Path.Combine(dir.Path, "missing.pem"), "--key-file", _pki.ServerKeyFile], $"--cert-file \"{Path.Combine(dir.Path, "missing.pem")}\": no such file"),
            ([.. Urls("https", "http"), "--cert-file", _pki.ServerCertFile], "--cert-file and --key-file must be given together"),
            ([.. Urls("https", "http"), "--cert-file", _pki.ServerCertFile, "--key-file", _pki.ClientKeyFile], "--key-file"),
            ([.. Urls("https", "http"), "--cert-file", _pki.ServerCertFile, "--key-file", _pki.ServerKeyFile, "--trusted-ca-file", _pki.ServerKeyFile], "--trusted-ca-file"),
            ([.. Urls("http", "https"), "--peer-cert-file", _pki.ServerCertFile, "--peer-key-file", _pki.ServerKeyFile, "--peer-trusted-ca-file", Path.Combine(dir.Path, "nope")], "--peer-trusted-ca-file"),
        };
        foreach (var (args, message) in cases)
        {
            var r = await RunKetchAsync(dir.Path, args);
            Assert.True(r.Exit != 0, $"ketch {string.Join(' ', args)} exited 0");
            Assert.Contains(message, r.Err, StringComparison.Ordinal);
            Assert.Contains("ketch: cannot start:", r.Err, StringComparison.Ordinal);
        }
        var validity = await RunKetchAsync(dir.Path, [.. Urls("https", "http"), "--auto-tls", "--self-signed-cert-validity", "0"]);
        Assert.Equal(2, validity.Exit);
        Assert.Contains("--self-signed-cert-validity must be greater than 0", validity.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_tls_writes_a_self_signed_certificate_that_etcdctl_uses_without_verification()
    {
        Etcdctl.Require();
        using var dir = new TempDir();
        var client = $"https://127.0.0.1:{TestNet.FreePort()}";
        var peer = $"https://127.0.0.1:{TestNet.FreePort()}";
        var data = Path.Combine(dir.Path, "auto.ketch");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir.Path };
        foreach (var a in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "ketch.dll"), "--data-dir", data, "--auto-tls", "--peer-auto-tls",
            "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"default={peer}",
        })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try
        {
            const string Insecure = "--insecure-transport=false --insecure-skip-tls-verify";
            await TestNet.WaitUntil(async () => (await EtcdctlAsync(client, $"{Insecure} put auto tls")).Exit == 0,
                TimeSpan.FromSeconds(30), "ketch with --auto-tls to serve etcdctl");
            Assert.Equal("auto\ntls\n", (await EtcdctlAsync(client, $"{Insecure} get auto")).Out);
            // Nobody signed it: verification fails.
            Assert.NotEqual(0, (await EtcdctlAsync(client, $"--cacert {_pki.CaFile} get auto")).Exit);
            foreach (var side in new[] { "client", "peer" })
            {
                var certFile = Path.Combine(data, "fixtures", side, "cert.pem");
                var keyFile = Path.Combine(data, "fixtures", side, "key.pem");
                Assert.True(File.Exists(certFile) && File.Exists(keyFile), $"{side} certificate in {data}/fixtures/{side}");
                if (!OperatingSystem.IsWindows())
                {
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
                }
                using var cert = X509Certificate2.CreateFromPemFile(certFile, keyFile);
                Assert.Equal(cert.Subject, cert.Issuer);
                Assert.InRange(cert.NotAfter, DateTime.Now.AddDays(360), DateTime.Now.AddDays(370));
                Assert.Contains("127.0.0.1", cert.GetNameInfo(X509NameType.DnsFromAlternativeName, false) + string.Join(",", cert.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateIPAddresses()).Select(a => a.ToString())), StringComparison.Ordinal);
            }
        }
        finally
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
    }
}
