using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Ketch.Raft;
using Ketch.Raft.Encoding;
using Ketch.Server.Member;
using Microsoft.Extensions.Logging;

namespace Ketch.Server.Peer;

/// <summary>
/// The stream to one peer: a bounded queue drained by one task that writes length-prefixed
/// RaftEncoding frames over TCP, flushing once per batch (everything queued at that moment).
/// Connection failures back off exponentially (100 ms to 2 s) and report the peer unreachable;
/// queued messages are dropped then (Raft retransmits); snapshot outcomes are reported. A peer
/// that connects to us cuts the backoff short (<see cref="PeerReachedUs"/>).
/// </summary>
internal sealed partial class PeerSender : IAsyncDisposable
{
    private const int QueueCapacity = 4096;
    private const int MaxBatchBytes = 1024 * 1024;

    private readonly RaftLoop _loop;
    private readonly ulong _peerId;
    private readonly IReadOnlyList<string> _urls;
    private readonly TimeProvider _time;
    private readonly TimeSpan _dialTimeout;  // the TCP connect (DialAsync)
    private readonly TimeSpan _setupTimeout; // then TLS, our handshake and its answer
    private readonly ILogger _log;
    private readonly Tls.TlsCredentials? _tls;
    private readonly TimeSpan _minBackoff;
    private readonly TimeSpan _maxBackoff;
    private readonly Channel<Message> _queue = Channel.CreateBounded<Message>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private readonly Task _probe;
    private int _snapshotInFlight;
    private long _connectedSinceTicks; // UTC ticks; 0 while the stream is down
    private int _reachedUs;                        // set by PeerReachedUs, taken by the backoff
    private CancellationTokenSource? _backoffWait; // the backoff in progress, if any

    public PeerSender(RaftLoop loop, ulong peerId, IReadOnlyList<string> urls, TimeProvider time, TimeSpan dialTimeout, TimeSpan setupTimeout, ILogger log, Tls.TlsCredentials? tls = null,
        TimeSpan? probeInterval = null, (TimeSpan Min, TimeSpan Max)? backoff = null)
    {
        (_minBackoff, _maxBackoff) = backoff ?? (TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2));
        _loop = loop;
        _peerId = peerId;
        _urls = urls;
        _time = time;
        _dialTimeout = dialTimeout;
        _setupTimeout = setupTimeout;
        _log = log;
        _tls = tls;
        _run = Task.Run(RunAsync);
        _probe = Task.Run(() => ProbeAsync(probeInterval ?? PeerProbe.Interval));
    }

    /// <summary>Since when our message stream to the peer has been up; null while it is down.</summary>
    public DateTimeOffset? ConnectedSince => Interlocked.Read(ref _connectedSinceTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    public void Send(Message m)
    {
        if (!_queue.Writer.TryWrite(m))
        {
            Failed(m);
        }
    }

    /// <summary>Streams a snapshot on a connection of its own, so the message stream is not held
    /// up; one at a time per peer (Raft sends another after a failure report).</summary>
    public void SendSnapshot(Message m, Action<Stream> writeStore)
    {
        if (Interlocked.Exchange(ref _snapshotInFlight, 1) == 1)
        {
            _loop.ReportSnapshot(_peerId, failed: true);
            return;
        }
        _ = Task.Run(async () =>
        {
            var failed = true;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            _loop.Metrics.Peers.SnapshotSendStarted(_peerId);
            try
            {
                await StreamSnapshotAsync(m, writeStore).ConfigureAwait(false);
                failed = false;
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException or System.Security.Authentication.AuthenticationException)
            {
                LogSnapshotFailed(_log, _peerId, e.Message);
            }
            finally
            {
                _loop.Metrics.Peers.SnapshotSendEnded(_peerId, !failed, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                Volatile.Write(ref _snapshotInFlight, 0);
                if (failed)
                {
                    _loop.ReportUnreachable(_peerId);
                }
                _loop.ReportSnapshot(_peerId, failed);
            }
        });
    }

    private async Task StreamSnapshotAsync(Message m, Action<Stream> writeStore)
    {
        var url = new Uri(_urls[0]);
        using var client = new TcpClient { NoDelay = true };
        var (dialled, answer) = await DialAsync(client, url, snapshot: true).ConfigureAwait(false);
        await using var stream = dialled;
        if (answer != PeerHandshake.Accepted)
        {
            throw new IOException("peer refused the snapshot connection");
        }
        var bytes = RaftEncoding.ToBytes(m);
        var header = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(header, bytes.Length);
        await stream.WriteAsync(header, _stop.Token).ConfigureAwait(false);
        await stream.WriteAsync(bytes, _stop.Token).ConfigureAwait(false);
        var output = new BufferedStream(stream, 64 * 1024);
        // The store streams from a RocksDB snapshot taken at this moment (at or after the
        // message's index; the follower skips entries its store already holds).
        await Task.Run(() => writeStore(output), _stop.Token).ConfigureAwait(false);
        await output.FlushAsync(_stop.Token).ConfigureAwait(false);
        await PeerConnection.ShutdownSendAsync(client, stream).ConfigureAwait(false);
        // Wait for the receiver to close its side: the file is then synced on its disk, unless
        // it says it dropped the stream as not whole.
        var rest = new byte[1];
        if (await stream.ReadAsync(rest, _stop.Token).ConfigureAwait(false) == 1 && rest[0] == PeerHandshake.SnapshotRefused)
        {
            throw new IOException("the peer dropped the snapshot stream as incomplete or corrupt");
        }
    }

    private void Failed(Message m)
    {
        _loop.Metrics.Peers.SendFailed(_peerId);
        _loop.ReportUnreachable(_peerId);
        if (m.Type == MessageType.Snap)
        {
            _loop.ReportSnapshot(_peerId, failed: true);
        }
    }

    private async Task RunAsync()
    {
        var backoff = _minBackoff;
        var attempt = 0;
        while (!_stop.IsCancellationRequested)
        {
            var url = new Uri(_urls[attempt++ % _urls.Count]);
            try
            {
                using var client = new TcpClient { NoDelay = true };
                var (dialled, answer) = await DialAsync(client, url, snapshot: false).ConfigureAwait(false);
                await using var stream = dialled;
                if (answer == PeerHandshake.Removed)
                {
                    _loop.ReportRemoved();
                }
                if (answer != PeerHandshake.Accepted)
                {
                    LogRefused(_log, _peerId, url.ToString(), answer);
                    throw new IOException("peer refused the connection");
                }
                backoff = _minBackoff;
                Interlocked.Exchange(ref _reachedUs, 0); // news from before this connection
                Interlocked.Exchange(ref _connectedSinceTicks, _time.GetUtcNow().UtcTicks);
                try
                {
                    await PumpAsync(stream).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Exchange(ref _connectedSinceTicks, 0);
                    if (!_stop.IsCancellationRequested)
                    {
                        _loop.Metrics.Peers.Disconnected(_peerId);
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
            {
                if (e is System.Security.Authentication.AuthenticationException)
                {
                    LogTlsFailed(_log, _peerId, url.ToString(), e.Message);
                }
                _loop.ReportUnreachable(_peerId);
                DropQueued();
                switch (await BackOffAsync(backoff).ConfigureAwait(false))
                {
                    case BackoffEnd.Stopped:
                        return;
                    case BackoffEnd.PeerReachedUs:
                        // Its listener may not be up yet (a member dials its peers as it starts):
                        // the next tries come at the shortest backoff again.
                        backoff = _minBackoff;
                        break;
                    default:
                        backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _maxBackoff.Ticks));
                        break;
                }
            }
        }
    }

    /// <summary>
    /// The peer opened a stream to us, so it is up again: dial it now rather than at the end of a
    /// backoff of up to 2 s. Until this member's stream to it is back, Raft's answers to the peer
    /// are dropped, and a member restarted after a quorum loss could not be elected (nor vote for
    /// anyone) in that time. etcd's stream readers retry every 100 ms, and its pipeline carries
    /// messages meanwhile.
    /// </summary>
    public void PeerReachedUs()
    {
        Interlocked.Exchange(ref _reachedUs, 1);
        try
        {
            // Asynchronously: the dial that follows must not run on the caller, the accept loop.
            _ = Volatile.Read(ref _backoffWait)?.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // That backoff has just ended.
        }
    }

    private enum BackoffEnd
    {
        Elapsed,
        PeerReachedUs,
        Stopped,
    }

    /// <summary>Waits <paramref name="backoff"/>, or less if the peer reaches us meanwhile.</summary>
    private async Task<BackoffEnd> BackOffAsync(TimeSpan backoff)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        Volatile.Write(ref _backoffWait, wait);
        try
        {
            // Taken after the wait is published: a PeerReachedUs in between either is seen here
            // or cancels the wait.
            if (Interlocked.Exchange(ref _reachedUs, 0) == 1)
            {
                return BackoffEnd.PeerReachedUs;
            }
            await Task.Delay(backoff, _time, wait.Token).ConfigureAwait(false);
            return BackoffEnd.Elapsed;
        }
        catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
        {
            Interlocked.Exchange(ref _reachedUs, 0);
            return BackoffEnd.PeerReachedUs;
        }
        catch (OperationCanceledException)
        {
            return BackoffEnd.Stopped;
        }
        finally
        {
            Volatile.Write(ref _backoffWait, null);
        }
    }

    /// <summary>Connects within the dial timeout, then sets up TLS, sends our handshake and reads the
    /// peer's answer within the setup timeout: a peer that accepts TCP but never answers (a hung
    /// process, a middlebox black-holing the stream) would otherwise hold this sender until the
    /// connection broke, with every message to that peer queued behind it. Throws
    /// <see cref="OperationCanceledException"/> when the time runs out, which the caller treats as
    /// any failed dial.</summary>
    private async Task<(Stream Stream, byte Answer)> DialAsync(TcpClient client, Uri url, bool snapshot)
    {
        using (var connect = new CancellationTokenSource(_dialTimeout, _time))
        using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, connect.Token))
        {
            await client.ConnectAsync(url.Host == "localhost" ? "127.0.0.1" : url.Host, url.Port, connecting.Token).ConfigureAwait(false);
        }
        using var setup = new CancellationTokenSource(_setupTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, setup.Token);
        var stream = await PeerConnection.DialAsync(client, url, _tls, linked.Token).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(PeerHandshake.Write(_loop.ClusterId, _loop.MemberId, _peerId, snapshot), linked.Token).ConfigureAwait(false);
            var answer = new byte[1];
            await stream.ReadExactlyAsync(answer, linked.Token).ConfigureAwait(false);
            return (stream, answer[0]);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Measures the round trip to the peer every <paramref name="interval"/>, for
    /// <c>etcd_network_peer_round_trip_time_seconds</c>. A peer that does not answer is left out:
    /// the message stream reports it unreachable, and its failures are counted there.</summary>
    private async Task ProbeAsync(TimeSpan interval)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _time, _stop.Token).ConfigureAwait(false);
                var rtt = await PeerProbe.MeasureAsync(_urls, _loop.ClusterId, _loop.MemberId, _peerId, _tls, _setupTimeout, _stop.Token).ConfigureAwait(false);
                _loop.Metrics.Peers.RoundTrip(_peerId, rtt);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (IOException)
            {
            }
        }
    }

    private void DropQueued()
    {
        while (_queue.Reader.TryRead(out var m))
        {
            Failed(m);
        }
    }

    private async Task PumpAsync(Stream stream)
    {
        var reader = _queue.Reader;
        // One buffer for the life of the connection: each batch's frames are encoded straight
        // into it and written with one call. Encoding every message into a fresh, growing array
        // was a third of a busy leader's allocations, and garbage collections are what a member
        // under load pays for most (docs/benchmarks.md).
        var batch = new ArrayBufferWriter<byte>(64 * 1024);
        var snapshots = new List<Message>();
        while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
        {
            while (batch.WrittenCount < MaxBatchBytes && reader.TryRead(out var m))
            {
                AppendFrame(batch, m);
                if (m.Type == MessageType.Snap)
                {
                    snapshots.Add(m);
                }
            }
            await stream.WriteAsync(batch.WrittenMemory, _stop.Token).ConfigureAwait(false);
            await stream.FlushAsync(_stop.Token).ConfigureAwait(false);
            _loop.Metrics.Peers.Sent(_peerId, batch.WrittenCount);
            foreach (var _ in snapshots)
            {
                _loop.ReportSnapshot(_peerId, failed: false);
            }
            snapshots.Clear();
            if (batch.Capacity > MaxBatchBytes * 4)
            {
                batch = new ArrayBufferWriter<byte>(64 * 1024); // let one huge batch's buffer go
            }
            else
            {
                batch.ResetWrittenCount();
            }
        }
    }

    /// <summary>Appends one frame: the message's length (int32 LE), then its encoding.</summary>
    internal static void AppendFrame(ArrayBufferWriter<byte> output, Message m)
    {
        var start = output.WrittenCount;
        output.GetSpan(4);
        output.Advance(4);
        RaftEncoding.Write(output, m);
        var length = output.WrittenCount - start - 4;
        BinaryPrimitives.WriteInt32LittleEndian(MemoryMarshal.AsMemory(output.WrittenMemory).Span.Slice(start, 4), length);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _queue.Writer.TryComplete();
        try
        {
            await _run.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _probe.ConfigureAwait(false);
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "sending a snapshot to {PeerId:x16} failed: {Reason}")]
    private static partial void LogSnapshotFailed(ILogger log, ulong peerId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS with peer {PeerId:x16} at {Url} failed: {Reason}")]
    private static partial void LogTlsFailed(ILogger log, ulong peerId, string url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {PeerId:x16} at {Url} refused our connection (code {Code}: 1 = other cluster, 2 = not the member addressed, 4 = we were removed)")]
    private static partial void LogRefused(ILogger log, ulong peerId, string url, byte code);
}
