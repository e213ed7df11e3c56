using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text.Json;

namespace Ketch.Server.Peer;

/// <summary>Asks existing members, over the peer port, for the cluster a new member joins.</summary>
internal static class ClusterQuery
{
    public static async Task<ClusterInfo> FetchAsync(IEnumerable<string> peerUrls, Tls.TlsCredentials? tls, CancellationToken ct)
    {
        var errors = new List<string>();
        foreach (var url in peerUrls)
        {
            try
            {
                var uri = new Uri(url);
                using var client = new TcpClient { NoDelay = true };
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                await client.ConnectAsync(uri.Host == "localhost" ? "127.0.0.1" : uri.Host, uri.Port, timeout.Token).ConfigureAwait(false);
                await using var stream = await PeerConnection.DialAsync(client, uri, tls, timeout.Token).ConfigureAwait(false);
                await stream.WriteAsync(PeerHandshake.Write(0, 0, 0), timeout.Token).ConfigureAwait(false);
                var head = new byte[5];
                await stream.ReadExactlyAsync(head, timeout.Token).ConfigureAwait(false);
                if (head[0] != PeerHandshake.Info)
                {
                    errors.Add($"{url}: unexpected answer {head[0]}");
                    continue;
                }
                var body = new byte[BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(1))];
                await stream.ReadExactlyAsync(body, timeout.Token).ConfigureAwait(false);
                return JsonSerializer.Deserialize<ClusterInfo>(body) ?? throw new InvalidDataException("empty cluster info");
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or JsonException or InvalidDataException or System.Security.Authentication.AuthenticationException)
            {
                errors.Add($"{url}: {e.Message}");
            }
        }
        throw new InvalidOperationException("could not reach any existing member to join: " + string.Join("; ", errors));
    }
}
