using System.Net.Security;
using System.Net.Sockets;
using Ketch.Server.Tls;

namespace Ketch.Server.Peer;

/// <summary>
/// The byte stream of a peer connection: the socket's own for <c>http://</c> peer URLs; for
/// <c>https://</c> ones a TLS session on it, in which the dialer shows this member's peer
/// certificate and checks the listener's against <c>--peer-trusted-ca-file</c> (the listener
/// checks the dialer's when <c>--peer-client-cert-auth</c>). Everything after it, the
/// handshake of <see cref="PeerHandshake"/> included, runs inside that session.
/// </summary>
internal static class PeerConnection
{
    /// <summary>The dialing side, on a connected <paramref name="client"/>.</summary>
    public static async Task<Stream> DialAsync(TcpClient client, Uri url, TlsCredentials? tls, CancellationToken cancellationToken)
    {
        Stream stream = client.GetStream();
        if (string.Equals(url.Scheme, "https", StringComparison.OrdinalIgnoreCase))
        {
            stream = await TlsCredentials.ConnectAsync(tls, stream, url.IdnHost, cancellationToken).ConfigureAwait(false);
        }
        return stream;
    }

    /// <summary>The listening side: <paramref name="tls"/> null for an <c>http://</c> listener.</summary>
    public static async Task<Stream> AcceptAsync(TcpClient client, TlsCredentials? tls, CancellationToken cancellationToken)
    {
        Stream stream = client.GetStream();
        if (tls is not null)
        {
            stream = await tls.AcceptAsync(stream, (client.Client.RemoteEndPoint as System.Net.IPEndPoint)?.Address, cancellationToken).ConfigureAwait(false);
        }
        return stream;
    }

    /// <summary>Ends the sending direction: TLS close_notify first on a TLS session, then the socket's FIN.</summary>
    public static async Task ShutdownSendAsync(TcpClient client, Stream stream)
    {
        if (stream is SslStream ssl)
        {
            await ssl.ShutdownAsync().ConfigureAwait(false);
        }
        client.Client.Shutdown(SocketShutdown.Send);
    }
}
