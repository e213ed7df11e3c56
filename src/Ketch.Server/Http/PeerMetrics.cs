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
    private static readonly double[] s_rttBuckets = Histogram.Exponential(0.0001, 2, 16);

    /// <summary>etcd's snapshot transfer buckets: 100 ms doubling, 10 buckets (up to 51.2 s).</summary>
    private static readonly double[] s_snapshotBuckets = Histogram.Exponential(0.1, 2, 10);

    private readonly ConcurrentDictionary<ulong, Peer> _peers = new();

    /// <summary>Whether the streams with a peer are up, asked when the metrics are rendered (the transport sets it).</summary>
    public Func<ulong, bool>? IsActive { get; set; }

    public void Sent(ulong to, long bytes) => Interlocked.Add(ref Of(to).SentBytes, bytes);

    public void Received(ulong from, long bytes) => Interlocked.Add(ref Of(from).ReceivedBytes, bytes);

    /// <summary>A message to <paramref name="to"/> that was dropped: its stream was down or its queue full.</summary>
    public void SendFailed(ulong to) => Interlocked.Increment(ref Of(to).SendFailures);

    /// <summary>A stream from <paramref name="from"/> broke while we read it (etcd's receive failures).</summary>
    public void ReceiveFailed(ulong from) => Interlocked.Increment(ref Of(from).ReceiveFailures);

    /// <summary>A snapshot stream to <paramref name="to"/> starts.</summary>
    public void SnapshotSendStarted(ulong to) => Of(to).Sends.Started();

    /// <summary>A snapshot stream to <paramref name="to"/> ended, successfully or not.</summary>
    public void SnapshotSendEnded(ulong to, bool ok, TimeSpan duration) => Of(to).Sends.Ended(ok, duration);

    /// <summary>A snapshot stream from <paramref name="from"/> starts.</summary>
    public void SnapshotReceiveStarted(ulong from) => Of(from).Receives.Started();

    /// <summary>A snapshot stream from <paramref name="from"/> ended: saved and synced, or not.</summary>
    public void SnapshotReceiveEnded(ulong from, bool ok, TimeSpan duration) => Of(from).Receives.Ended(ok, duration);

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
        Series(sb, "etcd_network_peer_received_failures_total", "The total number of receive failures from peers.", "counter",
            peers.Where(p => Interlocked.Read(ref p.Value.ReceiveFailures) > 0).Select(p => ($"From=\"{Hex(p.Key)}\"", Interlocked.Read(ref p.Value.ReceiveFailures))));
        RenderSnapshots(sb, "send", "sends", "To", [.. peers.Where(p => p.Value.Sends.Seen).Select(p => (Hex(p.Key), p.Value.Sends))]);
        RenderSnapshots(sb, "receive", "receives", "From", [.. peers.Where(p => p.Value.Receives.Seen).Select(p => (Hex(p.Key), p.Value.Receives))]);
        sb.Append("# HELP etcd_network_peer_round_trip_time_seconds Round-Trip-Time histogram between peers\n");
        sb.Append("# TYPE etcd_network_peer_round_trip_time_seconds histogram\n");
        foreach (var p in peers)
        {
            p.Value.RoundTrip.RenderSeries(sb, "etcd_network_peer_round_trip_time_seconds", $"To=\"{Hex(p.Key)}\"");
        }
    }

    /// <summary>etcd's snapshot series of one direction, for the peers that had a transfer.</summary>
    private static void RenderSnapshots(StringBuilder sb, string direction, string plural, string label, List<(string Peer, SnapshotTransfers T)> transfers)
    {
        if (transfers.Count == 0)
        {
            return;
        }
        var prefix = "etcd_network_snapshot_" + direction;
        Series(sb, prefix + "_inflights_total", $"Total number of inflight snapshot {plural}", "gauge",
            transfers.Select(t => ($"{label}=\"{t.Peer}\"", Interlocked.Read(ref t.T.InFlight))));
        Series(sb, prefix + "_success", $"Total number of successful snapshot {plural}", "counter",
            transfers.Where(t => Interlocked.Read(ref t.T.Succeeded) > 0).Select(t => ($"{label}=\"{t.Peer}\"", Interlocked.Read(ref t.T.Succeeded))));
        Series(sb, prefix + "_failures", $"Total number of snapshot {direction} failures", "counter",
            transfers.Where(t => Interlocked.Read(ref t.T.Failed) > 0).Select(t => ($"{label}=\"{t.Peer}\"", Interlocked.Read(ref t.T.Failed))));
        sb.Append("# HELP ").Append(prefix).Append("_total_duration_seconds Total latency distributions of v3 snapshot ").Append(plural).Append('\n');
        sb.Append("# TYPE ").Append(prefix).Append("_total_duration_seconds histogram\n");
        foreach (var (peer, t) in transfers)
        {
            t.Duration.RenderSeries(sb, prefix + "_total_duration_seconds", $"{label}=\"{peer}\"");
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
        public long ReceiveFailures;
        public long Disconnects;
        public readonly Histogram RoundTrip = new(s_rttBuckets);
        public readonly SnapshotTransfers Sends = new();
        public readonly SnapshotTransfers Receives = new();
    }

    /// <summary>Snapshot streams to or from one peer (etcd's snapshot send/receive series).</summary>
    private sealed class SnapshotTransfers
    {
        public long InFlight;
        public long Succeeded;
        public long Failed;
        public readonly Histogram Duration = new(s_snapshotBuckets);

        /// <summary>Whether any transfer started: etcd's series for a peer appear only then.</summary>
        public bool Seen => Interlocked.Read(ref InFlight) + Interlocked.Read(ref Succeeded) + Interlocked.Read(ref Failed) > 0;

        public void Started() => Interlocked.Increment(ref InFlight);

        public void Ended(bool ok, TimeSpan duration)
        {
            Interlocked.Decrement(ref InFlight);
            if (ok)
            {
                Interlocked.Increment(ref Succeeded);
                Duration.Observe(duration);
            }
            else
            {
                Interlocked.Increment(ref Failed);
            }
        }
    }
}
