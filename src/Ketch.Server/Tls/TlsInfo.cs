namespace Ketch.Server.Tls;

/// <summary>
/// Transport security of one side of a member, clients or peers, named after etcd's flags
/// (<c>--cert-file</c>, <c>--key-file</c>, <c>--trusted-ca-file</c>, <c>--client-cert-auth</c>,
/// <c>--auto-tls</c>, and the same with <c>--peer-</c>). It applies to the <c>https://</c> URLs of
/// that side; <c>http://</c> URLs stay plaintext.
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

    internal bool HasFiles => CertFile.Length > 0 || KeyFile.Length > 0;
}
