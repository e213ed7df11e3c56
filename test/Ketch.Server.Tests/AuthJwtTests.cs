using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Auth;
using static Ketch.Server.Tests.AuthTests;
using AuthClient = Ketch.Api.Etcdserverpb.Auth.AuthClient;

namespace Ketch.Server.Tests;

/// <summary><c>--auth-token jwt,...</c>: signed tokens any member verifies, refused when forged,
/// expired or stale; the flag's errors; the token's shape next to a real etcd's.</summary>
public sealed class AuthJwtTests
{
    private const string InvalidToken = "etcdserver: invalid auth token";
    private const string OldRevision = "etcdserver: revision of auth store is old";

    private static Google.Protobuf.ByteString B(string s) => Google.Protobuf.ByteString.CopyFromUtf8(s);

    /// <summary>An RSA key pair in PEM files, and the --auth-token value that uses them.</summary>
    private sealed class Keys : IDisposable
    {
        private readonly TempDir _dir = new();

        public Keys()
        {
            Rsa = RSA.Create(2048);
            File.WriteAllText(PrivPath, Rsa.ExportRSAPrivateKeyPem());
            File.WriteAllText(PubPath, Rsa.ExportSubjectPublicKeyInfoPem());
        }

        public RSA Rsa { get; }

        public string PrivPath => Path.Combine(_dir.Path, "priv.pem");

        public string PubPath => Path.Combine(_dir.Path, "pub.pem");

        public string Dir => _dir.Path;

        public string Spec(string extra = "") => $"jwt,pub-key={PubPath},priv-key={PrivPath},sign-method=RS256{extra}";

        public void Dispose()
        {
            Rsa.Dispose();
            _dir.Dispose();
        }
    }

    /// <summary>A JWT signed RS256 with <paramref name="key"/>, as a forger holding it would make one.</summary>
    private static string Sign(RSA key, string claimsJson)
    {
        var input = Base64Url.EncodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"u8) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claimsJson));
        return input + "." + Base64Url.EncodeToString(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    private static JsonElement Part(string token, int i) => JsonDocument.Parse(Base64Url.DecodeFromChars(token.Split('.')[i])).RootElement;

    private static async Task WaitAuthRevision(TestMember m, ulong revision) =>
        await TestNet.WaitUntil(() => Task.FromResult(m.Server.Loop.Auth.Revision >= revision), TimeSpan.FromSeconds(10), "the member to apply the auth changes");

    [Fact]
    public async Task A_token_from_one_member_works_on_the_others_and_forged_expired_or_stale_ones_do_not()
    {
        using var keys = new Keys();
        await using var c = await TestCluster.StartAsync(3, tweak: o => o with { AuthToken = keys.Spec(",ttl=10m") });
        var leader = await c.LeaderAsync();
        await SetUpAsync(leader);
        var revision = leader.Server.Loop.Auth.Revision;
        foreach (var m in c.Members)
        {
            await WaitAuthRevision(m, revision);
        }
        var (a, b, third) = (c.Members[0], c.Members[1], c.Members[2]);

        // Authenticate on one member: a signed token with etcd's claims.
        var before = DateTimeOffset.UtcNow;
        var token = await LoginAsync(a, "alice", "apw");
        Assert.Equal("RS256", Part(token, 0).GetProperty("alg").GetString());
        Assert.Equal("JWT", Part(token, 0).GetProperty("typ").GetString());
        var claims = Part(token, 1);
        Assert.Equal("alice", claims.GetProperty("username").GetString());
        Assert.Equal(revision, claims.GetProperty("revision").GetUInt64());
        var exp = DateTimeOffset.FromUnixTimeSeconds(claims.GetProperty("exp").GetInt64());
        Assert.InRange(exp, before.AddMinutes(10).AddSeconds(-2), DateTimeOffset.UtcNow.AddMinutes(10).AddSeconds(2));

        // Used on the other members, which never saw it (nothing is shared but the key).
        await b.Kv.PutAsync(new PutRequest { Key = B("a/jwt"), Value = B("v") }, Token(token));
        Assert.Equal("v", (await third.Kv.RangeAsync(new RangeRequest { Key = B("a/jwt") }, Token(token))).Kvs[0].Value.ToStringUtf8());
        await FailsAsync(() => third.Kv.PutAsync(new PutRequest { Key = B("b"), Value = B("v") }, Token(token)).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");

        // Tampered (alice's signature on root's claims), expired, or signed with another key: invalid.
        var parts = token.Split('.');
        var tampered = parts[0] + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            claims.GetRawText().Replace("\"alice\"", "\"root\"", StringComparison.Ordinal))) + "." + parts[2];
        await FailsAsync(() => b.Kv.RangeAsync(new RangeRequest { Key = B("a/jwt") }, Token(tampered)).ResponseAsync, StatusCode.Unauthenticated, InvalidToken);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // The same forging, unexpired, is accepted: the expiry alone refuses the next one.
        var forged = Sign(keys.Rsa, $"{{\"exp\":{now + 60},\"revision\":{revision},\"username\":\"alice\"}}");
        await b.Kv.RangeAsync(new RangeRequest { Key = B("a/jwt") }, Token(forged));
        var expired = Sign(keys.Rsa, $"{{\"exp\":{now - 5},\"revision\":{revision},\"username\":\"alice\"}}");
        await FailsAsync(() => b.Kv.RangeAsync(new RangeRequest { Key = B("a/jwt") }, Token(expired)).ResponseAsync, StatusCode.Unauthenticated, InvalidToken);
        using (var other = RSA.Create(2048))
        {
            var foreign = Sign(other, $"{{\"exp\":{now + 60},\"revision\":{revision},\"username\":\"alice\"}}");
            await FailsAsync(() => a.Kv.RangeAsync(new RangeRequest { Key = B("a/jwt") }, Token(foreign)).ResponseAsync, StatusCode.Unauthenticated, InvalidToken);
        }
        await FailsAsync(() => a.Kv.RangeAsync(new RangeRequest { Key = B("a/jwt") }, Token(parts[0] + "." + parts[1] + ".")).ResponseAsync, StatusCode.Unauthenticated, InvalidToken);

        // Any auth change makes older tokens stale, as etcd's: the client authenticates again.
        var root = Token(await LoginAsync(a, "root", "rootpw"));
        await new AuthClient(a.Channel).RoleAddAsync(new AuthRoleAddRequest { Name = "later" }, root);
        foreach (var m in c.Members)
        {
            await WaitAuthRevision(m, revision + 1);
        }
        await FailsAsync(() => b.Kv.RangeAsync(new RangeRequest { Key = B("a/jwt") }, Token(token)).ResponseAsync, StatusCode.InvalidArgument, OldRevision);
        await FailsAsync(() => third.Kv.PutAsync(new PutRequest { Key = B("a/jwt"), Value = B("w") }, Token(token)).ResponseAsync, StatusCode.InvalidArgument, OldRevision);
        var fresh = await LoginAsync(b, "alice", "apw");
        await third.Kv.PutAsync(new PutRequest { Key = B("a/jwt"), Value = B("w") }, Token(fresh));

        // A restarted member still accepts it: there is no token state to lose.
        await third.RestartAsync();
        await TestNet.WaitUntil(async () =>
        {
            try
            {
                return (await third.Kv.RangeAsync(new RangeRequest { Key = B("a/jwt") }, Token(fresh))).Kvs[0].Value.ToStringUtf8() == "w";
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), "the restarted member to serve the token");
    }

    [Fact]
    public async Task Es256_tokens_and_the_client_authenticating_again_on_a_stale_one()
    {
        using var dir = new TempDir();
        using (var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            File.WriteAllText(Path.Combine(dir.Path, "ec.pem"), ec.ExportECPrivateKeyPem());
            File.WriteAllText(Path.Combine(dir.Path, "ecpub.pem"), ec.ExportSubjectPublicKeyInfoPem());
        }
        await using var m = await TestMember.StartSingleAsync(o => o with
        {
            AuthToken = $"jwt,priv-key={Path.Combine(dir.Path, "ec.pem")},pub-key={Path.Combine(dir.Path, "ecpub.pem")},sign-method=ES256",
        });
        await SetUpAsync(m);
        var raw = await LoginAsync(m, "alice", "apw");
        Assert.Equal("ES256", Part(raw, 0).GetProperty("alg").GetString());
        await using var client = new Ketch.Client.KetchClient(new Ketch.Client.KetchClientOptions
        {
            Endpoints = [m.ClientUrl.Replace("http://", "", StringComparison.Ordinal)],
            RequestTimeout = TimeSpan.FromSeconds(10),
            Username = "alice",
            Password = "apw",
        });
        await client.Kv.PutAsync("a/1", "v");

        await new AuthClient(m.Channel).RoleAddAsync(new AuthRoleAddRequest { Name = "later" }, Token(await LoginAsync(m, "root", "rootpw")));

        // The token alice held is stale now...
        await FailsAsync(() => m.Kv.PutAsync(new PutRequest { Key = B("a/2"), Value = B("v") }, Token(raw)).ResponseAsync, StatusCode.InvalidArgument, OldRevision);
        // ...and the client, told so, authenticates again and retries, as clientv3 does.
        await client.Kv.PutAsync("a/2", "v");
        Assert.Equal(2, (await client.Kv.GetAsync("a/", new Ketch.Client.GetOptions { Prefix = true })).Count);
    }

    [Theory]
    [InlineData("bogus", "unknown token type \"bogus\"")]
    [InlineData("simple,ttl=5m", "simple tokens take no options")]
    [InlineData("jwt,priv-key=PRIV", "jwt needs sign-method")]
    [InlineData("jwt,priv-key=PRIV,sign-method=XX256", "unknown sign-method \"XX256\"")]
    [InlineData("jwt,sign-method=RS256", "RS256 needs priv-key and/or pub-key")]
    [InlineData("jwt,priv-key=DIR/missing.pem,sign-method=RS256", "cannot read priv-key")]
    [InlineData("jwt,priv-key=PUB,sign-method=RS256", "is not an RSA private key")]
    [InlineData("jwt,priv-key=PRIV,sign-method=ES256", "is not an EC private key")]
    [InlineData("jwt,priv-key=PRIV,sign-method=RS256,ttl=forever", "invalid ttl \"forever\"")]
    [InlineData("jwt,priv-key=PRIV,sign-method=RS256,ttl=0", "invalid ttl \"0\"")]
    [InlineData("jwt,priv-key=PRIV,sign-method=RS256,colour=blue", "unknown jwt option \"colour\"")]
    [InlineData("jwt,priv-key=PRIV,pub-key=OTHER,sign-method=RS256", "does not match priv-key")]
    [InlineData("jwt,priv-key,sign-method=RS256", "invalid option \"priv-key\"")]
    [InlineData("jwt,sign-method=HS256", "HS256 needs priv-key")]
    public void Bad_auth_token_values_are_refused_with_a_clear_error(string spec, string message)
    {
        using var keys = new Keys();
        using var other = RSA.Create(2048);
        var otherPath = Path.Combine(keys.Dir, "other.pem");
        File.WriteAllText(otherPath, other.ExportSubjectPublicKeyInfoPem());
        spec = spec.Replace("PRIV", keys.PrivPath, StringComparison.Ordinal).Replace("PUB", keys.PubPath, StringComparison.Ordinal)
            .Replace("OTHER", otherPath, StringComparison.Ordinal).Replace("DIR", keys.Dir, StringComparison.Ordinal);
        var e = Assert.Throws<ArgumentException>(() => ServerFlags.ToOptions(ServerFlags.ParseRaw(["--auth-token", spec], new System.Collections.Hashtable())));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Good_auth_token_values_are_accepted()
    {
        using var keys = new Keys();
        var o = ServerFlags.ToOptions(ServerFlags.ParseRaw(["--auth-token", keys.Spec(",ttl=1h30m"), "--auth-token-ttl", "60"], new System.Collections.Hashtable()));
        Assert.Equal(keys.Spec(",ttl=1h30m"), o.AuthToken);
        Assert.Equal(60, o.AuthTokenTtlSeconds);
        // Verify-only (public key alone) and HMAC (the file's bytes as the secret).
        ServerFlags.ToOptions(ServerFlags.ParseRaw(["--auth-token", $"jwt,pub-key={keys.PubPath},sign-method=PS256"], new System.Collections.Hashtable()));
        ServerFlags.ToOptions(ServerFlags.ParseRaw(["--auth-token", $"jwt,priv-key={keys.PrivPath},sign-method=HS512"], new System.Collections.Hashtable()));
        Assert.Equal("simple", ServerFlags.ToOptions(ServerFlags.ParseRaw([], new System.Collections.Hashtable())).AuthToken);
    }

    /// <summary>A key for <paramref name="method"/> in <c>key.pem</c> and a self-signed X.509
    /// certificate for it in <c>cert.pem</c>, under <paramref name="dir"/>.</summary>
    private static (string CertPath, string KeyPath) KeyAndCertificate(string dir, string method)
    {
        var (certPath, keyPath) = (Path.Combine(dir, "cert.pem"), Path.Combine(dir, "key.pem"));
        var now = DateTimeOffset.UtcNow;
        if (method.StartsWith("ES", StringComparison.Ordinal))
        {
            var curve = method switch
            {
                "ES384" => ECCurve.NamedCurves.nistP384,
                "ES512" => ECCurve.NamedCurves.nistP521,
                _ => ECCurve.NamedCurves.nistP256,
            };
            using var ec = ECDsa.Create(curve);
            using var cert = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=jwt signer", ec, HashAlgorithmName.SHA256)
                .CreateSelfSigned(now.AddHours(-1), now.AddDays(1));
            File.WriteAllText(keyPath, ec.ExportECPrivateKeyPem());
            File.WriteAllText(certPath, cert.ExportCertificatePem());
        }
        else
        {
            using var rsa = RSA.Create(2048);
            using var cert = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=jwt signer", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                .CreateSelfSigned(now.AddHours(-1), now.AddDays(1));
            File.WriteAllText(keyPath, rsa.ExportRSAPrivateKeyPem());
            File.WriteAllText(certPath, cert.ExportCertificatePem());
        }
        return (certPath, keyPath);
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("PS384")]
    [InlineData("ES256")]
    [InlineData("ES512")]
    public void A_certificate_works_as_pub_key(string method)
    {
        using var dir = new TempDir();
        var (cert, key) = KeyAndCertificate(dir.Path, method);
        using var signer = (JwtTokens)AuthTokenSpec.Create($"jwt,pub-key={cert},priv-key={key},sign-method={method}", TimeSpan.FromMinutes(5), TimeProvider.System);
        using var verifier = (JwtTokens)AuthTokenSpec.Create($"jwt,pub-key={cert},sign-method={method}", TimeSpan.FromMinutes(5), TimeProvider.System);
        Assert.False(verifier.CanSign);
        var token = signer.Sign("alice", 7);
        Assert.Equal(new AuthInfo("alice", 7), verifier.Info(token));

        // The certificate is checked against priv-key as a public key file is.
        using var other = new TempDir();
        var (otherCert, _) = KeyAndCertificate(other.Path, method);
        var e = Assert.Throws<ArgumentException>(() => AuthTokenSpec.Create($"jwt,pub-key={otherCert},priv-key={key},sign-method={method}", TimeSpan.FromMinutes(5), TimeProvider.System));
        Assert.Contains("does not match priv-key", e.Message, StringComparison.Ordinal);

        // A certificate for the other family's key is refused, naming what was wanted.
        var (wrongCert, _) = KeyAndCertificate(other.Path, method.StartsWith("ES", StringComparison.Ordinal) ? "RS256" : "ES256");
        e = Assert.Throws<ArgumentException>(() => AuthTokenSpec.Create($"jwt,pub-key={wrongCert},sign-method={method}", TimeSpan.FromMinutes(5), TimeProvider.System));
        Assert.Contains("public key or certificate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_real_etcd_and_ketch_take_the_same_certificate_as_pub_key_and_verify_each_others_tokens()
    {
        using var dir = new TempDir();
        var (cert, key) = KeyAndCertificate(dir.Path, "RS256");
        var spec = $"jwt,pub-key={cert},priv-key={key},sign-method=RS256";
        await using var etcd = await EtcdProcess.StartAsync("--auth-token", spec);
        await using var ketch = await TestMember.StartSingleAsync(o => o with { AuthToken = spec });
        using var verifier = (JwtTokens)AuthTokenSpec.Create($"jwt,pub-key={cert},sign-method=RS256", TimeSpan.FromMinutes(5), TimeProvider.System);
        using var etcdChannel = Grpc.Net.Client.GrpcChannel.ForAddress("http://" + etcd.Endpoint);
        foreach (var channel in new[] { etcdChannel, ketch.Channel })
        {
            var auth = new AuthClient(channel);
            await auth.UserAddAsync(new AuthUserAddRequest { Name = "root", Password = "rootpw" });
            await auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "root", Role = "root" });
            await auth.AuthEnableAsync(new AuthEnableRequest());
            var token = (await auth.AuthenticateAsync(new AuthenticateRequest { Name = "root", Password = "rootpw" })).Token;
            await new KV.KVClient(channel).PutAsync(new PutRequest { Key = B("k"), Value = B("v") }, Token(token));
            // Signed with the key, verified with the certificate: etcd's token passes ketch's check too.
            Assert.Equal("root", verifier.Info(token)?.User);
        }
    }

    [Fact]
    public async Task The_ketch_executable_exits_non_zero_on_a_bad_auth_token()
    {
        using var dir = new TempDir();
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir.Path,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "ketch.dll"), "--auth-token", "jwt,sign-method=RS256,pub-key=/nonexistent/pub.pem" })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(cts.Token);
        await stdout;
        Assert.NotEqual(0, p.ExitCode);
        Assert.Contains("cannot read pub-key \"/nonexistent/pub.pem\"", await stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_token_looks_and_goes_stale_as_a_real_etcds()
    {
        using var keys = new Keys();
        await using var etcd = await EtcdProcess.StartAsync("--auth-token", keys.Spec(",ttl=7m"));
        await using var ketch = await TestMember.StartSingleAsync(o => o with { AuthToken = keys.Spec(",ttl=7m") });
        var results = new List<string>();
        foreach (var channel in new[] { Grpc.Net.Client.GrpcChannel.ForAddress("http://" + etcd.Endpoint), ketch.Channel })
        {
            var auth = new AuthClient(channel);
            var kv = new KV.KVClient(channel);
            await auth.UserAddAsync(new AuthUserAddRequest { Name = "root", Password = "rootpw" });
            await auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "root", Role = "root" });
            await auth.AuthEnableAsync(new AuthEnableRequest());
            var token = (await auth.AuthenticateAsync(new AuthenticateRequest { Name = "root", Password = "rootpw" })).Token;
            var header = Part(token, 0);
            var claims = Part(token, 1);
            var ttl = claims.GetProperty("exp").GetInt64() - DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            results.Add($"header {header.GetRawText()}; claims {string.Join(",", claims.EnumerateObject().Select(p => p.Name))}; " +
                $"ttl ~7m {ttl is > 400 and <= 421}; user {claims.GetProperty("username")}");
            await kv.PutAsync(new PutRequest { Key = B("k"), Value = B("v") }, Token(token));
            await auth.RoleAddAsync(new AuthRoleAddRequest { Name = "later" }, Token(token));
            var stale = await Assert.ThrowsAsync<RpcException>(() => kv.RangeAsync(new RangeRequest { Key = B("k") }, Token(token)).ResponseAsync);
            results.Add($"stale range: {stale.StatusCode} {stale.Status.Detail}");
            var forged = await Assert.ThrowsAsync<RpcException>(() => kv.RangeAsync(new RangeRequest { Key = B("k") }, Token(token[..^4] + "AAAA")).ResponseAsync);
            results.Add($"forged: {forged.StatusCode} {forged.Status.Detail}");
            // Admin calls do not compare revisions (etcd's IsAdminPermitted).
            results.Add($"admin with stale token: {(await auth.UserListAsync(new AuthUserListRequest(), Token(token))).Users.Count} users");
            await auth.AuthDisableAsync(new AuthDisableRequest(), Token(token));
            if (channel != ketch.Channel)
            {
                channel.Dispose();
            }
        }
        Assert.Equal(results.Count / 2, results.Count - (results.Count / 2));
        for (var i = 0; i < results.Count / 2; i++)
        {
            Assert.Equal(results[i], results[i + (results.Count / 2)]);
        }
    }
}
