using System.Net.Security;

namespace Ketch.Server.Tls;

/// <summary>
/// <c>--cipher-suites</c>: the names etcd 3.4 accepts (pkg/tlsutil <c>GetCipherSuite</c>: Go's
/// <c>tls.CipherSuites()</c> and <c>tls.InsecureCipherSuites()</c> of go1.19, which built etcd
/// 3.4.23, plus two short ChaCha20 aliases), mapped to .NET's <see cref="TlsCipherSuite"/> (the
/// same IANA names). An unknown name stops the start with etcd's message.
/// </summary>
internal static class CipherSuites
{
    /// <summary>Go never lets TLS 1.3 suites be configured (<c>Config.CipherSuites</c> is for
    /// TLS 1.2 and below), so every policy keeps all three, and TLS 1.3 clients connect as they do
    /// to etcd whatever the list says.</summary>
    private static readonly TlsCipherSuite[] s_tls13 =
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    ];

    private static readonly Dictionary<string, TlsCipherSuite> s_byGoName = Build();

    /// <summary>The suites named by <paramref name="names"/>, in order.</summary>
    /// <exception cref="ArgumentException">A name Go does not know: <c>unexpected TLS cipher suite "X"</c>.</exception>
    public static IReadOnlyList<TlsCipherSuite> Parse(IEnumerable<string> names)
    {
        var suites = new List<TlsCipherSuite>();
        foreach (var name in names)
        {
            if (!s_byGoName.TryGetValue(name, out var suite))
            {
                throw new ArgumentException($"unexpected TLS cipher suite \"{name}\"");
            }
            suites.Add(suite);
        }
        return suites;
    }

    /// <summary>The policy for a non-empty list: the listed suites for TLS 1.2, all TLS 1.3 suites.
    /// Null where the platform cannot restrict suites (<see cref="CipherSuitesPolicy"/> exists on
    /// Linux and macOS only).</summary>
    public static CipherSuitesPolicy? Policy(IReadOnlyList<TlsCipherSuite> suites)
    {
        if (suites.Count == 0 || OperatingSystem.IsWindows())
        {
            return null;
        }
        try
        {
            return new CipherSuitesPolicy(suites.Concat(s_tls13).Distinct());
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }

    private static Dictionary<string, TlsCipherSuite> Build()
    {
        string[] goNames =
        [
            // tls.CipherSuites() of go1.19
            "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
            "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            // tls.InsecureCipherSuites() of go1.19
            "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256",
            "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
            "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        ];
        var map = goNames.ToDictionary(n => n, Enum.Parse<TlsCipherSuite>, StringComparer.Ordinal);
        // Go's older names, which etcd still accepts.
        map["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;
        map["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256;
        return map;
    }
}
