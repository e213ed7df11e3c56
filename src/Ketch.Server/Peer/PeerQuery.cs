using System.Net.Sockets;

namespace Ketch.Server.Peer;

/// <summary>
/// One question to a member over its peer port, outside the Raft message streams: connect to the
/// first of its URLs that answers, send <c>request</c> (a handshake and what follows it), read the
/// answer, within <c>timeout</c> per URL. Used to ask for the cluster a new member joins
/// (<see cref="ClusterQuery"/>) and for a member's store hash (<see cref="PeerHashQuery"/>).
/// </summary>
internal static class PeerQuery
{
    /// <summary>The answer of the first URL that gives one.</summary>
    /// <exception cref="IOException">No URL answered; the message says why for each.</exception>
    public static async Task<T> AskAsync<T>(IEnumerable<string> peerUrls, Tls.TlsCredentials? tls, TimeSpan timeout, byte[] request,
        Func<Stream, string, CancellationToken, Task<T>> read, CancellationToken ct)
    {
        var errors = new List<string>();
        foreach (var url in peerUrls)
        {
            try
            {
                var uri = new Uri(url);
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                deadline.CancelAfter(timeout);
                using var client = new TcpClient { NoDelay = true };
                await client.ConnectAsync(uri.Host == "localhost" ? "127.0.0.1" : uri.Host, uri.Port, deadline.Token).ConfigureAwait(false);
                await using var stream = await PeerConnection.DialAsync(client, uri, tls, deadline.Token).ConfigureAwait(false);
                await stream.WriteAsync(request, deadline.Token).ConfigureAwait(false);
                return await read(stream, url, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or InvalidDataException
                or System.Text.Json.JsonException or System.Security.Authentication.AuthenticationException or UriFormatException)
            {
                ct.ThrowIfCancellationRequested();
                errors.Add($"{url}: {(e is OperationCanceledException ? "timed out" : e.Message)}");
            }
        }
        throw new IOException(string.Join("; ", errors));
    }
}
