using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ketch.Server.Auth;

/// <summary>
/// etcd's <c>--auth-token</c> value: <c>simple</c> (the default) or
/// <c>jwt,pub-key=&lt;path&gt;,priv-key=&lt;path&gt;,sign-method=&lt;RS256|...&gt;[,ttl=&lt;Go duration&gt;]</c>.
/// RS*, PS* and ES* methods read PEM keys (PKCS#1, PKCS#8 or SEC1 private keys; SubjectPublicKeyInfo
/// or PKCS#1 public keys, or an X.509 certificate as pub-key, as etcd 3.4 takes one); with only
/// <c>pub-key</c> the member verifies tokens but cannot issue them. HS* methods use the bytes of the <c>priv-key</c> file as the shared secret. A bad value is
/// an <see cref="ArgumentException"/> naming what is wrong.
/// </summary>
internal static class AuthTokenSpec
{
    /// <summary>etcd's default JWT lifetime.</summary>
    public static readonly TimeSpan DefaultJwtTtl = TimeSpan.FromMinutes(5);

    private static readonly string[] s_jwtOptions = ["pub-key", "priv-key", "sign-method", "ttl"];

    /// <summary>Parses <paramref name="spec"/> and loads its keys.</summary>
    /// <param name="spec">The flag's value.</param>
    /// <param name="simpleTtl">The lifetime of simple tokens (<c>--auth-token-ttl</c>).</param>
    /// <param name="time">The clock tokens expire by.</param>
    /// <exception cref="ArgumentException">An unknown type or option, a missing or unreadable key, a key of the wrong kind.</exception>
    public static ITokenProvider Create(string spec, TimeSpan simpleTtl, TimeProvider time)
    {
        var parts = spec.Split(',');
        var type = parts[0].Trim();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in parts.Skip(1))
        {
            var pair = part.Split('=');
            if (pair.Length != 2 || pair[0].Length == 0)
            {
                throw new ArgumentException($"--auth-token: invalid option \"{part}\" (want key=value)");
            }
            if (!options.TryAdd(pair[0].Trim(), pair[1].Trim()))
            {
                throw new ArgumentException($"--auth-token: option \"{pair[0]}\" given twice");
            }
        }
        switch (type)
        {
            case "simple":
                if (options.Count > 0)
                {
                    throw new ArgumentException($"--auth-token: simple tokens take no options (got \"{string.Join(",", options.Keys)}\")");
                }
                return new SimpleTokens(time, simpleTtl);
            case "jwt":
                return Jwt(options, time);
            default:
                throw new ArgumentException($"--auth-token: unknown token type \"{type}\" (want simple or jwt)");
        }
    }

    private static JwtTokens Jwt(Dictionary<string, string> options, TimeProvider time)
    {
        if (options.Keys.FirstOrDefault(k => !s_jwtOptions.Contains(k)) is { } unknown)
        {
            throw new ArgumentException($"--auth-token: unknown jwt option \"{unknown}\" (known: {string.Join(", ", s_jwtOptions)})");
        }
        if (!options.TryGetValue("sign-method", out var methodName) || methodName.Length == 0)
        {
            throw new ArgumentException("--auth-token: jwt needs sign-method (RS256, ES256, ...)");
        }
        var method = JwtSignMethod.Find(methodName)
            ?? throw new ArgumentException($"--auth-token: unknown sign-method \"{methodName}\" (known: {string.Join(", ", JwtSignMethod.All.Select(m => m.Name))})");
        var ttl = DefaultJwtTtl;
        if (options.TryGetValue("ttl", out var ttlText))
        {
            ttl = GoDuration.Parse(ttlText) is { } d && d > TimeSpan.Zero
                ? d
                : throw new ArgumentException($"--auth-token: invalid ttl \"{ttlText}\" (want a positive duration such as 5m or 1h30m)");
        }
        var pubPath = options.GetValueOrDefault("pub-key", "");
        var privPath = options.GetValueOrDefault("priv-key", "");
        if (method.Family == JwtKeyFamily.Hmac)
        {
            var secret = privPath.Length > 0 ? Read(privPath, "priv-key") : throw new ArgumentException($"--auth-token: {method.Name} needs priv-key (the shared secret)");
            if (secret.Length == 0)
            {
                throw new ArgumentException($"--auth-token: priv-key \"{privPath}\" is empty");
            }
            return new JwtTokens(method, null, secret, canSign: true, ttl, time);
        }
        if (pubPath.Length == 0 && privPath.Length == 0)
        {
            throw new ArgumentException($"--auth-token: {method.Name} needs priv-key and/or pub-key");
        }
        AsymmetricAlgorithm key = method.Family == JwtKeyFamily.Ecdsa ? ECDsa.Create() : RSA.Create();
        AsymmetricAlgorithm? pub = null;
        try
        {
            if (privPath.Length > 0)
            {
                Import(key, privPath, "priv-key", method, requirePrivate: true);
            }
            if (pubPath.Length > 0)
            {
                pub = method.Family == JwtKeyFamily.Ecdsa ? ECDsa.Create() : RSA.Create();
                Import(pub, pubPath, "pub-key", method, requirePrivate: false);
                if (privPath.Length > 0 && !SamePublicKey(key, pub))
                {
                    throw new ArgumentException($"--auth-token: pub-key \"{pubPath}\" does not match priv-key \"{privPath}\"");
                }
            }
            if (privPath.Length == 0)
            {
                (key, pub) = (pub!, key);
            }
            return new JwtTokens(method, key, null, canSign: privPath.Length > 0, ttl, time);
        }
        catch
        {
            key.Dispose();
            throw;
        }
        finally
        {
            pub?.Dispose();
        }
    }

    private static byte[] Read(string path, string option)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"--auth-token: cannot read {option} \"{path}\": {e.Message}", e);
        }
    }

    private static void Import(AsymmetricAlgorithm key, string path, string option, JwtSignMethod method, bool requirePrivate)
    {
        var pem = System.Text.Encoding.UTF8.GetString(Read(path, option));
        var kind = method.Family == JwtKeyFamily.Ecdsa ? "an EC" : "an RSA";
        try
        {
            if (!requirePrivate && FirstPemLabel(pem) == "CERTIFICATE")
            {
                ImportCertificateKey(key, pem);
            }
            else
            {
                key.ImportFromPem(pem);
            }
            if (requirePrivate)
            {
                // Throws for a public key: signing needs the private half.
                _ = key is RSA rsa ? rsa.ExportParameters(true).D : ((ECDsa)key).ExportParameters(true).D;
            }
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new ArgumentException($"--auth-token: {option} \"{path}\" is not {kind} {(requirePrivate ? "private key" : "public key or certificate")} in PEM form ({method.Name})", e);
        }
        if (method.CurveBits > 0 && key.KeySize != method.CurveBits)
        {
            throw new ArgumentException($"--auth-token: {option} \"{path}\" is a {key.KeySize}-bit curve; {method.Name} needs {method.CurveBits} bits");
        }
    }

    /// <summary>The label of the first PEM block in <paramref name="pem"/>, or null.</summary>
    private static string? FirstPemLabel(string pem) =>
        PemEncoding.TryFind(pem, out var fields) ? pem[fields.Label] : null;

    /// <summary>
    /// The public key of the X.509 certificate in the first PEM block. etcd 3.4 reads pub-key with
    /// jwt-go's ParseRSAPublicKeyFromPEM / ParseECPublicKeyFromPEM, which take the first PEM block
    /// as a PKIX public key or else as a certificate, so a member's certificate works as pub-key.
    /// The certificate is only a container here: its validity, issuer and usages are not checked
    /// (nor by etcd).
    /// </summary>
    private static void ImportCertificateKey(AsymmetricAlgorithm key, string pem)
    {
        using var cert = X509Certificate2.CreateFromPem(pem);
        byte[] spki;
        if (key is RSA)
        {
            using var rsa = cert.GetRSAPublicKey() ?? throw new CryptographicException("the certificate's key is not RSA");
            spki = rsa.ExportSubjectPublicKeyInfo();
        }
        else
        {
            using var ec = cert.GetECDsaPublicKey() ?? throw new CryptographicException("the certificate's key is not EC");
            spki = ec.ExportSubjectPublicKeyInfo();
        }
        key.ImportSubjectPublicKeyInfo(spki, out _);
    }

    private static bool SamePublicKey(AsymmetricAlgorithm a, AsymmetricAlgorithm b) =>
        a.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(b.ExportSubjectPublicKeyInfo());
}
