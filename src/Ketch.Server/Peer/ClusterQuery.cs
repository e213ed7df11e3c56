using System.Buffers.Binary;
using System.Text.Json;

namespace Ketch.Server.Peer;

/// <summary>Asks existing members, over the peer port, for the cluster a new member joins.</summary>
internal static class ClusterQuery
{
    public static async Task<ClusterInfo> FetchAsync(IEnumerable<string> peerUrls, Tls.TlsCredentials? tls, CancellationToken ct)
    {
        try
        {
            return await PeerQuery.AskAsync(peerUrls, tls, TimeSpan.FromSeconds(5), PeerHandshake.Write(0, 0, 0), ReadAsync, ct).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException("could not reach any existing member to join: " + e.Message);
        }
    }

    private static async Task<ClusterInfo> ReadAsync(Stream stream, string url, CancellationToken ct)
    {
        var head = new byte[5];
        await stream.ReadExactlyAsync(head, ct).ConfigureAwait(false);
        if (head[0] != PeerHandshake.Info)
        {
            throw new InvalidDataException($"unexpected answer {head[0]}");
        }
        var body = new byte[BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(1))];
        await stream.ReadExactlyAsync(body, ct).ConfigureAwait(false);
        return JsonSerializer.Deserialize<ClusterInfo>(body) ?? throw new InvalidDataException("empty cluster info");
    }
}
