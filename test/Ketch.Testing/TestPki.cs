using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ketch.Testing;

/// <summary>
/// A throw-away PKI for TLS tests, made with <see cref="CertificateRequest"/> and written as PEM
/// files into a temporary directory (removed on dispose): a CA; a member certificate signed by it
/// for 127.0.0.1, localhost and the loopback addresses the test clusters use, good for server and
/// client authentication (so members use it as client and peer certificate too); a client
/// certificate; and a second, unrelated CA with a client certificate of its own (a stranger).
/// </summary>
public sealed class TestPki : IDisposable
{
    private static readonly Oid s_serverAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid s_clientAuth = new("1.3.6.1.5.5.7.3.2");

    private TestPki(string dir) => Dir = dir;

    /// <summary>Where the files are.</summary>
    public string Dir { get; }

    /// <summary>The CA certificate (PEM).</summary>
    public string CaFile => Path.Combine(Dir, "ca.pem");

    /// <summary>The member certificate (server and client authentication).</summary>
    public string ServerCertFile => Path.Combine(Dir, "server.pem");

    /// <summary>The member certificate's key.</summary>
    public string ServerKeyFile => Path.Combine(Dir, "server-key.pem");

    /// <summary>A client certificate signed by the CA (client authentication only).</summary>
    public string ClientCertFile => Path.Combine(Dir, "client.pem");

    /// <summary>The client certificate's key.</summary>
    public string ClientKeyFile => Path.Combine(Dir, "client-key.pem");

    /// <summary>The CA's private key (PEM), for <see cref="Issue(string, string, bool, string[], IPAddress[])"/> and <see cref="WriteCrl"/>.</summary>
    public string CaKeyFile => Path.Combine(Dir, "ca-key.pem");

    /// <summary>Another CA, which nothing trusts.</summary>
    public string OtherCaFile => Path.Combine(Dir, "other-ca.pem");

    /// <summary>A certificate signed by the other CA, for server and client authentication, for the same addresses.</summary>
    public string OtherCertFile => Path.Combine(Dir, "other.pem");

    /// <summary>The other certificate's key.</summary>
    public string OtherKeyFile => Path.Combine(Dir, "other-key.pem");

    /// <summary>Generates everything into a new temporary directory.</summary>
    public static TestPki Create()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ketch-pki-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var pki = new TestPki(dir);
        using (var ca = NewCa("Ketch Test CA"))
        {
            File.WriteAllText(pki.CaFile, ca.ExportCertificatePem() + "\n");
            using (var caKey = ca.GetECDsaPrivateKey()!)
            {
                File.WriteAllText(pki.CaKeyFile, caKey.ExportPkcs8PrivateKeyPem() + "\n");
            }
            Issue(ca, "ketch member", [s_serverAuth, s_clientAuth], pki.ServerCertFile, pki.ServerKeyFile);
            Issue(ca, "ketch client", [s_clientAuth], pki.ClientCertFile, pki.ClientKeyFile);
        }
        using (var other = NewCa("Stranger CA"))
        {
            File.WriteAllText(pki.OtherCaFile, other.ExportCertificatePem() + "\n");
            Issue(other, "stranger", [s_serverAuth, s_clientAuth], pki.OtherCertFile, pki.OtherKeyFile);
        }
        return pki;
    }

    /// <summary>Issues another certificate from the CA into <c>&lt;stem&gt;.pem</c> and
    /// <c>&lt;stem&gt;-key.pem</c> (overwriting them), for the same loopback names as the member
    /// certificate unless <paramref name="dnsNames"/> says otherwise.</summary>
    /// <param name="stem">File name without <c>.pem</c>.</param>
    /// <param name="commonName">The subject's CN.</param>
    /// <param name="server">Allow server authentication (besides client authentication).</param>
    /// <param name="dnsNames">The DNS names instead of the loopback names and addresses; empty: no SAN at all.</param>
    /// <param name="ipAddresses">IP address SANs; given alone, they replace the loopback names and addresses too.</param>
    /// <returns>The certificate and key files.</returns>
    public (string CertFile, string KeyFile) Issue(string stem, string commonName, bool server = false, string[]? dnsNames = null, IPAddress[]? ipAddresses = null)
    {
        using var ca = X509Certificate2.CreateFromPemFile(CaFile, CaKeyFile);
        var (certFile, keyFile) = (Path.Combine(Dir, stem + ".pem"), Path.Combine(Dir, stem + "-key.pem"));
        Issue(ca, commonName, server ? [s_serverAuth, s_clientAuth] : [s_clientAuth], certFile, keyFile, dnsNames ?? (ipAddresses is null ? null : []), ipAddresses);
        return (certFile, keyFile);
    }

    /// <summary>Writes a PEM CRL signed by the CA that revokes the certificates in <paramref name="revokedCertFiles"/>.</summary>
    public void WriteCrl(string file, params string[] revokedCertFiles)
    {
        using var ca = X509Certificate2.CreateFromPemFile(CaFile, CaKeyFile);
        var builder = new CertificateRevocationListBuilder();
        var now = DateTimeOffset.UtcNow;
        foreach (var path in revokedCertFiles)
        {
            using var revoked = X509Certificate2.CreateFromPem(File.ReadAllText(path));
            builder.AddEntry(revoked, now.AddMinutes(-1));
        }
        var der = builder.Build(ca, BigInteger.One, now.AddDays(1), HashAlgorithmName.SHA256);
        File.WriteAllText(file, PemEncoding.WriteString("X509 CRL", der) + "\n");
    }

    private static X509Certificate2 NewCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddHours(-1), now.AddDays(2));
    }

    private static void Issue(X509Certificate2 ca, string name, Oid[] usages, string certFile, string keyFile, string[]? dnsNames = null, IPAddress[]? ipAddresses = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var oids = new OidCollection();
        foreach (var u in usages)
        {
            oids.Add(u);
        }
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, false));
        var names = new SubjectAlternativeNameBuilder();
        if (dnsNames is null)
        {
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            // The addresses of the in-process and process test clusters.
            for (var i = 1; i <= 60; i++)
            {
                names.AddIpAddress(IPAddress.Parse($"127.0.0.{i + 1}"));
            }
            for (var i = 41; i <= 60; i++)
            {
                names.AddIpAddress(IPAddress.Parse(LoopbackBlock.Address(i)));
            }
            request.CertificateExtensions.Add(names.Build());
        }
        else if (dnsNames.Length > 0 || ipAddresses is { Length: > 0 })
        {
            foreach (var dns in dnsNames)
            {
                names.AddDnsName(dns);
            }
            foreach (var ip in ipAddresses ?? [])
            {
                names.AddIpAddress(ip);
            }
            request.CertificateExtensions.Add(names.Build());
        }
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var now = DateTimeOffset.UtcNow;
        using var cert = request.Create(ca, now.AddHours(-1), now.AddDays(1), serial);
        File.WriteAllText(certFile, cert.ExportCertificatePem() + "\n");
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    /// <summary>Removes the directory.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
