using System.Diagnostics;

namespace Ketch.Server.Peer;

/// <summary>
/// The round trip to a peer, measured over its peer port outside the Raft streams, as etcd's
/// prober does (a GET of <c>/raft/probing</c> every 4 s): after the handshake
/// (<see cref="PeerStreamKind.Probe"/>) and its answer, the prober sends 8 bytes and the peer sends
/// them back at once. Only that exchange is timed, not the connection's setup, so TLS costs nothing
/// here. The Raft messages themselves cannot be timed this way: a follower answers an append only
/// after its disk write.
/// </summary>
internal static class PeerProbe
{
    /// <summary>etcd's probe interval (its connection read timeout, 5 s, less one second).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(4);

    /// <summary>One round trip to the member <paramref name="to"/> at the first of <paramref name="peerUrls"/> that answers.</summary>
    /// <exception cref="IOException">No URL answered, or the member refused the handshake.</exception>
    public static Task<TimeSpan> MeasureAsync(IReadOnlyList<string> peerUrls, ulong clusterId, ulong from, ulong to,
        Tls.TlsCredentials? tls, TimeSpan timeout, CancellationToken ct) =>
        PeerQuery.AskAsync(peerUrls, tls, timeout, PeerHandshake.Write(clusterId, from, to, PeerStreamKind.Probe), RoundTripAsync, ct);

    private static async Task<TimeSpan> RoundTripAsync(Stream stream, string url, CancellationToken ct)
    {
        var status = new byte[1];
        await stream.ReadExactlyAsync(status, ct).ConfigureAwait(false);
        if (status[0] != PeerHandshake.Accepted)
        {
            throw new IOException($"refused the probe (handshake answer {status[0]})");
        }
        var ping = new byte[8];
        Random.Shared.NextBytes(ping);
        var echo = new byte[8];
        var started = Stopwatch.GetTimestamp();
        await stream.WriteAsync(ping, ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
        await stream.ReadExactlyAsync(echo, ct).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (!echo.AsSpan().SequenceEqual(ping))
        {
            throw new IOException("the probe's echo differs from what was sent");
        }
        return elapsed;
    }

    /// <summary>Sends back the prober's 8 bytes.</summary>
    public static async Task AnswerAsync(Stream stream, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var ping = new byte[8];
        await stream.ReadExactlyAsync(ping, linked.Token).ConfigureAwait(false);
        await stream.WriteAsync(ping, linked.Token).ConfigureAwait(false);
        await stream.FlushAsync(linked.Token).ConfigureAwait(false);
    }
}
