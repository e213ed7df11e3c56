using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ketch.Server.Tls;

/// <summary>
/// The certificate behind <c>--auto-tls</c> / <c>--peer-auto-tls</c>: a self-signed ECDSA P-521
/// certificate for the hosts of the listen URLs, written as <c>cert.pem</c> and <c>key.pem</c>
/// into <c>&lt;data-dir&gt;/fixtures/client</c> (or <c>peer</c>), the files etcd uses, and
/// reused while both files exist. Nobody can verify it: clients skip verification
/// (etcdctl's <c>--insecure-skip-tls-verify</c>), and so do members dialing peers with one.
/// </summary>
internal static class SelfSignedCertificate
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Returns the certificate and key files in <paramref name="directory"/>, generating
    /// them first unless both exist.</summary>
    /// <param name="directory">Where the files live.</param>
    /// <param name="hosts">Host names and IP addresses the certificate names (subject alternative names).</param>
    /// <param name="validityYears">Years from now until the certificate expires.</param>
    /// <param name="clientAuth">Also allow the certificate as a client certificate (peers dial each other with it).</param>
    public static (string CertFile, string KeyFile) Ensure(string directory, IEnumerable<string> hosts, int validityYears, bool clientAuth)
    {
        var certFile = Path.Combine(directory, "cert.pem");
        var keyFile = Path.Combine(directory, "key.pem");
        if (File.Exists(certFile) && File.Exists(keyFile))
        {
            return (certFile, keyFile);
        }
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP521);
        var request = new CertificateRequest(new X500DistinguishedName("O=ketch"), key, HashAlgorithmName.SHA512);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var usages = new OidCollection { TlsCredentials.ServerAuth };
        if (clientAuth)
        {
            usages.Add(TlsCredentials.ClientAuth);
        }
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
            {
                names.AddIpAddress(ip);
            }
            else
            {
                names.AddDnsName(host);
            }
        }
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(validityYears));
        // The key first: a crash in between leaves no certificate, so the next start generates both again.
        Write(keyFile, key.ExportECPrivateKeyPem(), OwnerOnlyFile);
        Write(certFile, certificate.ExportCertificatePem(), OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return (certFile, keyFile);
    }

    private static void Write(string path, string pem, UnixFileMode mode)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }
        using var file = new FileStream(path, options);
        using var writer = new StreamWriter(file);
        writer.Write(pem);
        writer.Write('\n');
    }
}
