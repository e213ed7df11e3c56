using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ketch.Client;

/// <summary>
/// TLS towards the members (etcd's <c>transport.TLSInfo</c>, etcdctl's <c>--cacert</c>,
/// <c>--cert</c>, <c>--key</c>, <c>--insecure-skip-tls-verify</c>). Used for <c>https://</c>
/// endpoints, and for endpoints given without a scheme (<c>host:port</c>) once set, as etcd's
/// client does. Files are read when the client is created.
/// </summary>
public sealed class KetchTlsOptions
{
    /// <summary>PEM file of the CAs the members' certificates must chain to; <c>null</c>: the system's CAs.</summary>
    public string? TrustedCaFile { get; init; }

    /// <summary>PEM file of the client certificate to show (for <c>--client-cert-auth</c> members);
    /// needs <see cref="KeyFile"/>.</summary>
    public string? CertFile { get; init; }

    /// <summary>PEM file of the private key of <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; init; }

    /// <summary>Accept any server certificate (for members with <c>--auto-tls</c>); the connection
    /// is encrypted but the server is not authenticated.</summary>
    public bool InsecureSkipVerify { get; init; }

    /// <summary>The handshake settings for one endpoint, files loaded.</summary>
    /// <exception cref="ArgumentException">A file is missing or not PEM, or only one of cert and key is set.</exception>
    internal SslClientAuthenticationOptions Load()
    {
        if (string.IsNullOrEmpty(CertFile) != string.IsNullOrEmpty(KeyFile))
        {
            throw new ArgumentException("a client certificate needs both CertFile and KeyFile");
        }
        X509Certificate2Collection? trusted = null;
        if (!string.IsNullOrEmpty(TrustedCaFile))
        {
            trusted = [];
            Read(TrustedCaFile, () => trusted.ImportFromPemFile(TrustedCaFile));
            if (trusted.Count == 0)
            {
                throw new ArgumentException($"{TrustedCaFile}: no PEM certificate in it");
            }
        }
        X509Certificate2? certificate = null;
        if (!string.IsNullOrEmpty(CertFile) && !string.IsNullOrEmpty(KeyFile))
        {
            Read(CertFile, () => File.OpenRead(CertFile).Dispose());
            Read(KeyFile, () => certificate = X509Certificate2.CreateFromPemFile(CertFile, KeyFile));
        }
        var skip = InsecureSkipVerify;
        return new SslClientAuthenticationOptions
        {
            ClientCertificateContext = certificate is null ? null : SslStreamCertificateContext.Create(certificate, null, offline: true),
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, cert, _, errors) => skip || Verify(cert, errors, trusted),
        };
    }

    private static bool Verify(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection? trusted)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }
        if (trusted is null)
        {
            return errors == SslPolicyErrors.None;
        }
        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1")); // server authentication
        return chain.Build(leaf);
    }

    private static void Read(string file, Action read)
    {
        try
        {
            read();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Go's wording, which etcdctl prints.
            throw new ArgumentException($"open {file}: no such file or directory", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ArgumentException($"{file}: {e.Message}", e);
        }
    }
}
