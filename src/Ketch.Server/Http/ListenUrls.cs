using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Ketch.Server.Http;

/// <summary>Turns etcd-style listen URLs (<c>http://host:port</c>, <c>https://host:port</c>) into
/// Kestrel endpoints; TLS on the https ones is set up by the caller.</summary>
internal static class ListenUrls
{
    public static (string Host, int Port) Parse(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "unix" or "https"))
        {
            throw new ArgumentException($"\"{url}\" is not a valid listen URL (expected http://host:port)");
        }
        if (uri.IsDefaultPort && !url.Contains(":" + uri.Port, StringComparison.Ordinal))
        {
            throw new ArgumentException($"\"{url}\" has no port");
        }
        return (uri.Host, uri.Port);
    }

    public static void Listen(KestrelServerOptions kestrel, string url, Action<ListenOptions> configure)
    {
        var (host, port) = Parse(url);
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.Listen(IPAddress.Loopback, port, configure);
        }
        else if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, port, configure);
        }
        else
        {
            var addresses = Dns.GetHostAddresses(host);
            if (addresses.Length == 0)
            {
                throw new ArgumentException($"\"{url}\": cannot resolve {host}");
            }
            kestrel.Listen(addresses[0], port, configure);
        }
    }
}
