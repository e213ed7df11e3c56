using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Ketch.Server.Http;

/// <summary>
/// etcd's peer network series (its rafthttp metrics), which the etcd dashboards and alerts read:
/// bytes sent to and received from each peer, messages that could not be sent, the round-trip time
/// the prober measures (<c>etcd_network_peer_round_trip_time_seconds</c>, behind the
/// "member communication slow" alert), and which peers are active. Peer ids are written in hex,
/// as etcd writes them.
/// </summary>
internal sealed class PeerMetrics
{
    /// <summary>etcd's round-trip buckets: 100 µs doubling, 16 buckets (up to ~3.3 s).</summary>
    private static readonly double[] s_rttBuckets = [.. Enumerable.Range(0, 16).Select(i => 0.0001 * Math.Pow(2, i))];

    private readonly ConcurrentDictionary<ulong, Peer> _peers = new();

    /// <summary>Whether the streams with a peer are up, asked when the metrics are rendered (the transport sets it).</summary>
    public Func<ulong, bool>? IsActive { get; set; }

    public void Sent(ulong to, long bytes) => Interlocked.Add(ref Of(to).SentBytes, bytes);

    public void Received(ulong from, long bytes) => Interlocked.Add(ref Of(from).ReceivedBytes, bytes);

    /// <summary>A message to <paramref name="to"/> that was dropped: its stream was down or its queue full.</summary>
    public void SendFailed(ulong to) => Interlocked.Increment(ref Of(to).SendFailures);

    /// <summary>Our stream to <paramref name="peer"/> broke after it had been up.</summary>
    public void Disconnected(ulong peer) => Interlocked.Increment(ref Of(peer).Disconnects);

    public void RoundTrip(ulong to, TimeSpan rtt) => Of(to).RoundTrip.Observe(rtt);

    private Peer Of(ulong id) => _peers.GetOrAdd(id, static _ => new Peer());

    public void Render(StringBuilder sb, ulong localId)
    {
        var peers = _peers.OrderBy(p => p.Key).ToList();
        var local = Hex(localId);
        Series(sb, "etcd_network_peer_sent_bytes_total", "The total number of bytes sent to peers.", "counter",
            peers.Select(p => ($"To=\"{Hex(p.Key)}\"", Interlocked.Read(ref p.Value.SentBytes))));
        Series(sb, "etcd_network_peer_received_bytes_total", "The total number of bytes received from peers.", "counter",
            peers.Select(p => ($"From=\"{Hex(p.Key)}\"", Interlocked.Read(ref p.Value.ReceivedBytes))));
        Series(sb, "etcd_network_peer_sent_failures_total", "The total number of send failures from peers.", "counter",
            peers.Select(p => ($"To=\"{Hex(p.Key)}\"", Interlocked.Read(ref p.Value.SendFailures))));
        Series(sb, "etcd_network_active_peers", "The current number of active peer connections.", "gauge",
            peers.Select(p => ($"Local=\"{local}\",Remote=\"{Hex(p.Key)}\"", IsActive?.Invoke(p.Key) == true ? 1L : 0L)));
        Series(sb, "etcd_network_disconnected_peers_total", "The total number of disconnected peers.", "counter",
            peers.Select(p => ($"Local=\"{local}\",Remote=\"{Hex(p.Key)}\"", Interlocked.Read(ref p.Value.Disconnects))));
        sb.Append("# HELP etcd_network_peer_round_trip_time_seconds Round-Trip-Time histogram between peers\n");
        sb.Append("# TYPE etcd_network_peer_round_trip_time_seconds histogram\n");
        foreach (var p in peers)
        {
            p.Value.RoundTrip.RenderSeries(sb, "etcd_network_peer_round_trip_time_seconds", $"To=\"{Hex(p.Key)}\"");
        }
    }

    private static void Series(StringBuilder sb, string name, string help, string type, IEnumerable<(string Labels, long Value)> series)
    {
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        foreach (var (labels, value) in series)
        {
            sb.Append(name).Append('{').Append(labels).Append("} ").Append(value).Append('\n');
        }
    }

    private static string Hex(ulong id) => id.ToString("x", CultureInfo.InvariantCulture);

    private sealed class Peer
    {
        public long SentBytes;
        public long ReceivedBytes;
        public long SendFailures;
        public long Disconnects;
        public readonly Histogram RoundTrip = new(s_rttBuckets);
    }
}
