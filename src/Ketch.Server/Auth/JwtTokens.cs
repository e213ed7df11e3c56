using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ketch.Server.Auth;

/// <summary>
/// etcd's <c>--auth-token jwt,...</c>: a token is a JSON Web Token (RFC 7519) signed by the member
/// that answered Authenticate, with the claims <c>username</c>, <c>revision</c> (the auth revision
/// at authentication) and <c>exp</c> (now + <c>ttl</c>, Unix seconds). Any member holding the
/// public key (or the HMAC secret) verifies it without shared state, so a token survives restarts
/// and works on every member. Nothing is kept: a changed password, a deleted user or any other
/// auth change makes older tokens stale through their revision (<c>revision of auth store is
/// old</c>), after which the client authenticates again. A member given only <c>pub-key</c>
/// verifies tokens but cannot issue them.
/// </summary>
internal sealed class JwtTokens : ITokenProvider, IDisposable
{
    private readonly JwtSignMethod _method;
    private readonly AsymmetricAlgorithm? _key;
    private readonly byte[]? _secret;
    private readonly TimeProvider _time;

    public JwtTokens(JwtSignMethod method, AsymmetricAlgorithm? key, byte[]? secret, bool canSign, TimeSpan ttl, TimeProvider time)
    {
        _method = method;
        _key = key;
        _secret = secret;
        CanSign = canSign;
        Ttl = ttl;
        _time = time;
    }

    /// <summary>How long a token is valid after it is issued (<c>ttl</c>, default 5 minutes).</summary>
    public TimeSpan Ttl { get; }

    /// <summary>False when only a public key was given.</summary>
    public bool CanSign { get; }

    /// <summary>etcd's error for Authenticate on a verify-only member (an unconverted auth error).</summary>
    public static Grpc.Core.RpcException VerifyOnly =>
        Api.EtcdErrors.Make(Grpc.Core.StatusCode.Unknown, "auth: token signing attempted with verify-only key");

    /// <summary>A signed token for <paramref name="user"/> at auth revision <paramref name="revision"/>.</summary>
    public string Sign(string user, ulong revision)
    {
        if (!CanSign)
        {
            throw VerifyOnly;
        }
        var header = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["alg"] = _method.Name,
            ["typ"] = "JWT",
        }));
        var exp = _time.GetUtcNow().Add(Ttl).ToUnixTimeSeconds();
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("exp", exp);
            w.WriteNumber("revision", revision);
            w.WriteString("username", user);
            w.WriteEndObject();
        }
        var signingInput = header + "." + Base64Url.EncodeToString(buffer.ToArray());
        return signingInput + "." + Base64Url.EncodeToString(Signature(Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>The caller of a token signed with our key and method, not expired; else null.</summary>
    public AuthInfo? Info(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }
        try
        {
            using (var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0])))
            {
                if (!header.RootElement.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String || alg.GetString() != _method.Name)
                {
                    return null;
                }
            }
            if (!Verify(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2])))
            {
                return null;
            }
            using var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            var root = claims.RootElement;
            if (!root.TryGetProperty("username", out var username) || username.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("revision", out var revision) || !revision.TryGetDouble(out var rev) || rev < 1)
            {
                return null;
            }
            if (root.TryGetProperty("exp", out var exp)
                && (!exp.TryGetDouble(out var expSeconds) || _time.GetUtcNow().ToUnixTimeSeconds() > expSeconds))
            {
                return null;
            }
            return new AuthInfo(username.GetString()!, (ulong)rev);
        }
        catch (Exception e) when (e is FormatException or JsonException or CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Nothing to forget: a token's revision makes it stale after the change.</summary>
    public void InvalidateUser(string user)
    {
    }

    /// <summary>Nothing to forget: tokens are not kept.</summary>
    public void Clear()
    {
    }

    public void Dispose() => _key?.Dispose();

    private byte[] Signature(byte[] data) => _method.Family switch
    {
        JwtKeyFamily.Hmac => HmacHash(data),
        JwtKeyFamily.Rsa => ((RSA)_key!).SignData(data, _method.Hash, RSASignaturePadding.Pkcs1),
        JwtKeyFamily.RsaPss => ((RSA)_key!).SignData(data, _method.Hash, RSASignaturePadding.Pss),
        // JWS (RFC 7518 §3.4) wants r || s, which is .NET's default (IEEE P1363) format.
        _ => ((ECDsa)_key!).SignData(data, _method.Hash),
    };

    private bool Verify(byte[] data, byte[] signature) => _method.Family switch
    {
        JwtKeyFamily.Hmac => CryptographicOperations.FixedTimeEquals(HmacHash(data), signature),
        JwtKeyFamily.Rsa => ((RSA)_key!).VerifyData(data, signature, _method.Hash, RSASignaturePadding.Pkcs1),
        JwtKeyFamily.RsaPss => ((RSA)_key!).VerifyData(data, signature, _method.Hash, RSASignaturePadding.Pss),
        _ => ((ECDsa)_key!).VerifyData(data, signature, _method.Hash),
    };

    private byte[] HmacHash(byte[] data) => _method.Hash.Name switch
    {
        "SHA384" => HMACSHA384.HashData(_secret!, data),
        "SHA512" => HMACSHA512.HashData(_secret!, data),
        _ => HMACSHA256.HashData(_secret!, data),
    };
}

/// <summary>The kind of key a JWT signing method uses.</summary>
internal enum JwtKeyFamily
{
    Rsa,
    RsaPss,
    Ecdsa,
    Hmac,
}

/// <summary>A JWS algorithm (RFC 7518) as etcd names it in <c>sign-method</c>.</summary>
internal sealed record JwtSignMethod(string Name, JwtKeyFamily Family, HashAlgorithmName Hash, int CurveBits = 0)
{
    public static readonly IReadOnlyList<JwtSignMethod> All =
    [
        new("RS256", JwtKeyFamily.Rsa, HashAlgorithmName.SHA256),
        new("RS384", JwtKeyFamily.Rsa, HashAlgorithmName.SHA384),
        new("RS512", JwtKeyFamily.Rsa, HashAlgorithmName.SHA512),
        new("PS256", JwtKeyFamily.RsaPss, HashAlgorithmName.SHA256),
        new("PS384", JwtKeyFamily.RsaPss, HashAlgorithmName.SHA384),
        new("PS512", JwtKeyFamily.RsaPss, HashAlgorithmName.SHA512),
        new("ES256", JwtKeyFamily.Ecdsa, HashAlgorithmName.SHA256, 256),
        new("ES384", JwtKeyFamily.Ecdsa, HashAlgorithmName.SHA384, 384),
        new("ES512", JwtKeyFamily.Ecdsa, HashAlgorithmName.SHA512, 521),
        new("HS256", JwtKeyFamily.Hmac, HashAlgorithmName.SHA256),
        new("HS384", JwtKeyFamily.Hmac, HashAlgorithmName.SHA384),
        new("HS512", JwtKeyFamily.Hmac, HashAlgorithmName.SHA512),
    ];

    public static JwtSignMethod? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    public override string ToString() => Name.ToString(CultureInfo.InvariantCulture);
}
