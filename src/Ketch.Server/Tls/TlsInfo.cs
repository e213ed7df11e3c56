namespace Ketch.Server.Tls;

/// <summary>
/// Transport security of one side of a member, clients or peers, named after etcd's flags
/// (<c>--cert-file</c>, <c>--key-file</c>, <c>--trusted-ca-file</c>, <c>--client-cert-auth</c>,
/// <c>--auto-tls</c>, <c>--client-crl-file</c>, and the same with <c>--peer-</c>;
/// <c>--peer-cert-allowed-cn</c>, <c>--peer-cert-allowed-hostname</c>,
/// <c>--client-cert-allowed-hostname</c>, <c>--cipher-suites</c>). It applies to the
/// <c>https://</c> URLs of that side; <c>http://</c> URLs stay plaintext. The files are read again
/// for new handshakes when they change on disk (see <see cref="TlsCredentials"/>).
/// </summary>
public sealed record TlsInfo
{
    /// <summary>PEM file with this member's certificate, then any intermediate certificates.</summary>
    public string CertFile { get; init; } = "";

    /// <summary>PEM file with the private key of <see cref="CertFile"/> (EC, RSA or PKCS#8, unencrypted).</summary>
    public string KeyFile { get; init; } = "";

    /// <summary>PEM file with the CA certificates that client (or peer) certificates must chain to.
    /// As in etcd 3.4, giving it also makes the member require a client certificate.</summary>
    public string TrustedCaFile { get; init; } = "";

    /// <summary>Require and verify a certificate from every connecting client (or peer).</summary>
    public bool ClientCertAuth { get; init; }

    /// <summary>Without <see cref="CertFile"/> and <see cref="KeyFile"/>: generate a self-signed
    /// certificate under <c>&lt;data-dir&gt;/fixtures/client</c> (or <c>/peer</c>) and use it.</summary>
    public bool AutoTls { get; init; }

    /// <summary>PEM or DER certificate revocation list: a connecting client (or peer) whose
    /// certificate's serial number is listed is refused at the handshake (etcd 3.4 compares serial
    /// numbers only, as we do).</summary>
    public string CrlFile { get; init; } = "";

    /// <summary>The Common Name the other side's certificate must carry (etcd's
    /// <c>--peer-cert-allowed-cn</c>); exclusive with <see cref="AllowedHostname"/>.</summary>
    public string AllowedCn { get; init; } = "";

    /// <summary>A host name or IP address the other side's certificate must be valid for (its
    /// subject alternative names; etcd's <c>--peer-cert-allowed-hostname</c> and
    /// <c>--client-cert-allowed-hostname</c>).</summary>
    public string AllowedHostname { get; init; } = "";

    /// <summary>TLS 1.2 cipher suites in Go's names (<c>--cipher-suites</c>, e.g.
    /// <c>TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256</c>); empty: the platform's defaults. As in Go,
    /// TLS 1.3 keeps its own suites.</summary>
    public IReadOnlyList<string> CipherSuites { get; init; } = [];

    /// <summary>Peers only: do not check that a connecting peer's certificate is valid for the
    /// address it connects from (etcd's <c>--experimental-peer-skip-client-san-verification</c>).</summary>
    public bool SkipClientSanVerify { get; init; }

    /// <summary>The lowest TLS version accepted and offered: "TLS1.2" (the default) or "TLS1.3"
    /// (etcd 3.5's <c>--tls-min-version</c>).</summary>
    public string MinVersion { get; init; } = "TLS1.2";

    /// <summary>The highest TLS version: "TLS1.2", "TLS1.3", or empty for the highest there is
    /// (etcd 3.5's <c>--tls-max-version</c>).</summary>
    public string MaxVersion { get; init; } = "";

    /// <summary>Peers only: the certificate this member shows when it dials its peers, instead of
    /// <see cref="CertFile"/> (etcd's <c>--peer-client-cert-file</c>: for a server certificate
    /// without the client-authentication usage).</summary>
    public string ClientCertFile { get; init; } = "";

    /// <summary>The private key of <see cref="ClientCertFile"/> (etcd's <c>--peer-client-key-file</c>).</summary>
    public string ClientKeyFile { get; init; } = "";

    internal bool HasFiles => CertFile.Length > 0 || KeyFile.Length > 0;
}
