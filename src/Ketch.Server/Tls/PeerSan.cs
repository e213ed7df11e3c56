using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Ketch.Server.Tls;

/// <summary>
/// etcd 3.4's check of a connecting peer's certificate against the address it connects from
/// (pkg/transport <c>checkCertSAN</c>, on every https peer listener unless
/// <c>--experimental-peer-skip-client-san-verification</c>): a certificate with no IP and no DNS
/// subject alternative name passes; else an IP SAN equal to the remote address (Go's
/// <c>VerifyHostname</c> for an IP) or a DNS SAN that resolves to it. Checked against a real etcd
/// 3.4.23: a certificate for 127.0.0.5 is refused from 127.0.0.1 with the error text below, and
/// one for 127.0.0.5 plus DNS localhost is accepted from 127.0.0.5.
/// </summary>
internal static class PeerSan
{
    /// <summary>The addresses a name resolves to (the system resolver).</summary>
    public static Task<IPAddress[]> ResolveAsync(string name, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(name, cancellationToken);

    /// <summary>Null when <paramref name="certificate"/> is valid for <paramref name="remote"/>;
    /// else why not, in etcd's words.</summary>
    /// <param name="certificate">The leaf the peer sent.</param>
    /// <param name="remote">The address the connection came from.</param>
    /// <param name="resolve">Name lookup; a failed lookup counts as no address, as in etcd.</param>
    /// <param name="cancellationToken">Ends the lookups.</param>
    public static async Task<string?> CheckAsync(X509Certificate2 certificate, IPAddress remote,
        Func<string, CancellationToken, Task<IPAddress[]>> resolve, CancellationToken cancellationToken)
    {
        var (ips, dnsNames) = Names(certificate);
        if (ips.Count == 0 && dnsNames.Count == 0)
        {
            return null;
        }
        var host = Normalize(remote);
        if (ips.Any(ip => Normalize(ip).Equals(host)))
        {
            return null;
        }
        if (dnsNames.Count == 0)
        {
            // Go's x509.HostnameError text for an IP host.
            return $"x509: certificate is valid for {string.Join(", ", ips)}, not {host}";
        }
        foreach (var name in dnsNames)
        {
            IPAddress[] addresses;
            try
            {
                addresses = await resolve(name, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                continue;
            }
            catch (ArgumentException)
            {
                continue;
            }
            if (addresses.Any(a => Normalize(a).Equals(host)))
            {
                return null;
            }
        }
        return $"tls: \"{host}\" does not match any of DNSNames [{string.Join(" ", dnsNames.Select(n => "\"" + n + "\""))}]";
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static (List<IPAddress> Ips, List<string> DnsNames) Names(X509Certificate2 certificate)
    {
        var ips = new List<IPAddress>();
        var dnsNames = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value == "2.5.29.17")
            {
                var san = extension as X509SubjectAlternativeNameExtension ?? new X509SubjectAlternativeNameExtension(extension.RawData, extension.Critical);
                ips.AddRange(san.EnumerateIPAddresses());
                dnsNames.AddRange(san.EnumerateDnsNames());
            }
        }
        return (ips, dnsNames);
    }
}
