using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Ketch.Raft;
using Ketch.Raft.Encoding;
using Ketch.Server.Http;
using Ketch.Server.Member;
using Microsoft.Extensions.Logging;

namespace Ketch.Server.Peer;

/// <summary>
/// Raft messages between members over TCP on the peer URLs: one outgoing stream per peer
/// (<see cref="PeerSender"/>), and a listener that checks each incoming connection's handshake
/// (same cluster, addressed to us) before stepping the frames it carries into the Raft loop.
/// </summary>
internal sealed partial class PeerTransport : IPeerTransport
{
    /// <summary>Largest frame accepted: a snapshot carries the whole store.</summary>
    private const int MaxFrameBytes = 512 * 1024 * 1024;

    private readonly RaftLoop _loop;
    private readonly KetchServerOptions _options;
    private readonly ILogger _log;
    private readonly Tls.TlsCredentials? _tls;
    private readonly ConcurrentDictionary<ulong, PeerSender> _senders = new();
    private readonly List<TcpListener> _listeners = [];
    private readonly List<Task> _tasks = [];
    private readonly CancellationTokenSource _stop = new();
    private long _refusedForeign;

    // Incoming message streams per peer: how many are open, and since when one has been.
    private readonly Dictionary<ulong, (int Open, DateTimeOffset Since)> _inbound = [];

    /// <param name="loop">The member's Raft loop.</param>
    /// <param name="options">The member's options (peer URLs, data directory).</param>
    /// <param name="log">Where connection problems are logged.</param>
    /// <param name="tls">The peer certificates, for https:// peer URLs (null: none configured).</param>
    public PeerTransport(RaftLoop loop, KetchServerOptions options, ILogger log, Tls.TlsCredentials? tls = null)
    {
        _loop = loop;
        _options = options;
        _log = log;
        _tls = tls;
        loop.Metrics.Peers.IsActive = id => ActiveSince(id) is not null;
    }

    /// <summary>Connections refused because the peer belongs to another cluster.</summary>
    public long RefusedForeign => Interlocked.Read(ref _refusedForeign);

    public void Start()
    {
        foreach (var url in _options.ListenPeerUrls)
        {
            var (host, port) = ListenUrls.Parse(url);
            var ip = string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(host.Trim('[', ']'));
            var tls = Tls.TlsCredentials.IsHttps(url)
                ? _tls ?? throw new ArgumentException($"peer URL {url} uses https: --peer-cert-file and --peer-key-file must be given (or --peer-auto-tls)")
                : null;
            var listener = new TcpListener(ip, port);
            listener.Start();
            _listeners.Add(listener);
            _tasks.Add(Task.Run(() => AcceptAsync(listener, tls)));
        }
    }

    public void Send(IReadOnlyList<Message> messages)
    {
        foreach (var m in messages)
        {
            if (_senders.TryGetValue(m.To, out var sender))
            {
                sender.Send(m);
            }
            else
            {
                _loop.Metrics.Peers.SendFailed(m.To);
                _loop.ReportUnreachable(m.To);
            }
        }
    }

    public void SendSnapshot(Message message, Action<Stream> writeStore)
    {
        if (_senders.TryGetValue(message.To, out var sender))
        {
            sender.SendSnapshot(message, writeStore);
        }
        else
        {
            _loop.ReportUnreachable(message.To);
            _loop.ReportSnapshot(message.To, failed: true);
        }
    }

    public void AddPeer(ulong id, IReadOnlyList<string> peerUrls)
    {
        if (id == _loop.MemberId || peerUrls.Count == 0 || _senders.ContainsKey(id))
        {
            return;
        }
        _senders[id] = new PeerSender(_loop, id, peerUrls, _options.TimeProvider, _options.PeerDialTimeout, _options.PeerSetupTimeout, _log, _tls, _options.PeerProbeInterval,
            _options.PeerRetryBackoff);
    }

    public DateTimeOffset? ActiveSince(ulong id)
    {
        if (!_senders.TryGetValue(id, out var sender) || sender.ConnectedSince is not { } outbound)
        {
            return null;
        }
        lock (_inbound)
        {
            // Active once both directions are up, as etcd's peer status goes inactive when either
            // its stream writer or its stream reader fails. Both directions matter: an idle stream
            // to a stopped peer only fails at its next write, while the peer's stream to us ends
            // at once.
            return _inbound.TryGetValue(id, out var inbound) ? (inbound.Since > outbound ? inbound.Since : outbound) : null;
        }
    }

    private void InboundOpened(ulong from)
    {
        bool first;
        lock (_inbound)
        {
            first = !_inbound.TryGetValue(from, out var x);
            _inbound[from] = first ? (1, _options.TimeProvider.GetUtcNow()) : (x.Open + 1, x.Since);
        }
        if (first && _senders.TryGetValue(from, out var sender))
        {
            sender.PeerReachedUs();
        }
    }

    private void InboundClosed(ulong from)
    {
        lock (_inbound)
        {
            if (_inbound.TryGetValue(from, out var x))
            {
                if (x.Open <= 1)
                {
                    _inbound.Remove(from);
                }
                else
                {
                    _inbound[from] = (x.Open - 1, x.Since);
                }
            }
        }
    }

    public void RemovePeer(ulong id)
    {
        if (_senders.TryRemove(id, out var sender))
        {
            _ = sender.DisposeAsync().AsTask();
        }
    }

    private Task AcceptAsync(TcpListener listener, Tls.TlsCredentials? tls) =>
        AcceptLoop.RunAsync(
            listener.AcceptTcpClientAsync,
            client => _ = Task.Run(() => ServeAsync(client, tls)),
            (e, wait) => LogAcceptFailed(_log, listener.LocalEndpoint.ToString() ?? "?", e.Message, wait.TotalMilliseconds),
            _options.TimeProvider,
            _stop.Token);

    // The largest frame buffer a connection keeps between frames: append batches under load stay
    // well below it, so the buffer settles after a few frames instead of being allocated per frame.
    private const int RetainedFrameBytes = 4 << 20;

    private async Task ServeAsync(TcpClient client, Tls.TlsCredentials? tls)
    {
        using (client)
        {
            try
            {
                client.NoDelay = true;
                var (accepted, hello) = await AcceptHelloAsync(client, tls).ConfigureAwait(false);
                await using var stream = accepted;
                if (!PeerHandshake.TryRead(hello, out var clusterId, out var from, out var to, out var kind))
                {
                    return;
                }
                if (clusterId == 0 && to == 0)
                {
                    var info = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new ClusterInfo(_loop.ClusterId, _loop.Membership.Members));
                    var head = new byte[5];
                    head[0] = PeerHandshake.Info;
                    BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(1), info.Length);
                    await stream.WriteAsync(head, _stop.Token).ConfigureAwait(false);
                    await stream.WriteAsync(info, _stop.Token).ConfigureAwait(false);
                    return;
                }
                if (clusterId != _loop.ClusterId)
                {
                    LogForeign(_log, from, clusterId, _loop.ClusterId);
                    Interlocked.Increment(ref _refusedForeign);
                    await stream.WriteAsync(new[] { PeerHandshake.WrongCluster }, _stop.Token).ConfigureAwait(false);
                    return;
                }
                if (to != _loop.MemberId)
                {
                    await stream.WriteAsync(new[] { PeerHandshake.WrongMember }, _stop.Token).ConfigureAwait(false);
                    return;
                }
                if (_loop.Membership.IsRemoved(from))
                {
                    LogRefusedRemoved(_log, from);
                    await stream.WriteAsync(new[] { PeerHandshake.Removed }, _stop.Token).ConfigureAwait(false);
                    return;
                }
                await stream.WriteAsync(new[] { PeerHandshake.Accepted }, _stop.Token).ConfigureAwait(false);
                if (kind == PeerStreamKind.Probe)
                {
                    await PeerProbe.AnswerAsync(stream, _options.PeerSetupTimeout, _options.TimeProvider, _stop.Token).ConfigureAwait(false);
                    return;
                }
                if (kind == PeerStreamKind.Hash)
                {
                    await PeerHashQuery.AnswerAsync(stream, _loop.Kv, _options.PeerSetupTimeout, _options.TimeProvider, _stop.Token).ConfigureAwait(false);
                    return;
                }
                if (kind == PeerStreamKind.Snapshot)
                {
                    if (!await ReceiveSnapshotAsync(stream, from).ConfigureAwait(false))
                    {
                        await stream.WriteAsync(new[] { PeerHandshake.SnapshotRefused }, _stop.Token).ConfigureAwait(false);
                    }
                    // The sender waits for our end of the connection: the file is synced.
                    await PeerConnection.ShutdownSendAsync(client, stream).ConfigureAwait(false);
                    return;
                }
                InboundOpened(from);
                try
                {
                    await ReceiveFramesAsync(stream, from).ConfigureAwait(false);
                }
                catch (Exception) when (!_stop.IsCancellationRequested)
                {
                    _loop.Metrics.Peers.ReceiveFailed(from);
                    throw;
                }
                finally
                {
                    InboundClosed(from);
                }
            }
            catch (System.Security.Authentication.AuthenticationException e)
            {
                LogTlsRefused(_log, client.Client.RemoteEndPoint?.ToString() ?? "?", e.Message);
            }
            catch (Exception)
            {
                // A broken or malformed stream: drop the connection; the peer reconnects.
            }
        }
    }

    /// <summary>TLS and the dialler's handshake, within the setup timeout: a dialler that connects and
    /// stays silent would otherwise hold a socket and a task for good.</summary>
    private async Task<(Stream Stream, byte[] Hello)> AcceptHelloAsync(TcpClient client, Tls.TlsCredentials? tls)
    {
        using var setup = new CancellationTokenSource(_options.PeerSetupTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, setup.Token);
        var stream = await PeerConnection.AcceptAsync(client, tls, linked.Token).ConfigureAwait(false);
        try
        {
            var hello = new byte[PeerHandshake.Bytes];
            await stream.ReadExactlyAsync(hello, linked.Token).ConfigureAwait(false);
            return (stream, hello);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Steps the frames of one message stream from <paramref name="from"/> into the Raft
    /// loop until the stream ends or breaks.</summary>
    private async Task ReceiveFramesAsync(Stream stream, ulong from)
    {
        var input = new BufferedStream(stream, 64 * 1024);
        var header = new byte[4];
        // Frames are read into one buffer per connection; most messages (responses,
        // heartbeats) keep nothing of it, and a fresh array per frame was 6 % of a leader's
        // allocations under load.
        var frame = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            await input.ReadExactlyAsync(header, _stop.Token).ConfigureAwait(false);
            var length = BinaryPrimitives.ReadInt32LittleEndian(header);
            if (length <= 0 || length > MaxFrameBytes)
            {
                return;
            }
            if (frame.Length < length)
            {
                frame = new byte[Math.Max(length, frame.Length * 2)];
            }
            await input.ReadExactlyAsync(frame.AsMemory(0, length), _stop.Token).ConfigureAwait(false);
            _loop.Metrics.Peers.Received(from, 4 + length);
            var m = Owned(RaftEncoding.ReadMessage(frame.AsMemory(0, length)));
            if (frame.Length > RetainedFrameBytes)
            {
                // A rare huge frame does not pin a huge buffer for the connection's life.
                frame = new byte[4096];
            }
            if (m.From == from && m.To == _loop.MemberId)
            {
                if (_loop.Membership.IsRemoved(from))
                {
                    // Removed while connected: end the stream; its reconnection is refused as removed,
                    // which tells it to stop.
                    return;
                }
                _loop.Receive(m);
            }
        }
    }

    /// <summary>
    /// <paramref name="m"/> with every byte it references (entry payloads, context) copied out of the
    /// reused frame buffer, into arrays below the large-object threshold (<see cref="PayloadCopier"/>):
    /// the entries live on in the unstable log and the WAL batch after this frame is overwritten.
    /// </summary>
    private static Message Owned(Message m)
    {
        if (m.Entries.IsEmpty && m.Context.IsEmpty && m.Snapshot is null)
        {
            return m;
        }
        var source = m.Entries.Span;
        long total = m.Context.Length;
        foreach (var e in source)
        {
            total += e.Data.Length;
        }
        var copier = new PayloadCopier(total);
        var entries = source.IsEmpty ? [] : new Entry[source.Length];
        for (var i = 0; i < source.Length; i++)
        {
            var e = source[i];
            entries[i] = new Entry(e.Term, e.Index, e.Type, copier.Copy(e.Data.Span));
        }
        var snapshot = m.Snapshot;
        if (snapshot is not null && !snapshot.Data.IsEmpty)
        {
            snapshot = new Snapshot(snapshot.Data.ToArray(), snapshot.Metadata);
        }
        return new Message
        {
            Type = m.Type,
            To = m.To,
            From = m.From,
            Term = m.Term,
            LogTerm = m.LogTerm,
            Index = m.Index,
            Commit = m.Commit,
            RejectHint = m.RejectHint,
            Reject = m.Reject,
            Entries = entries,
            Context = copier.Copy(m.Context.Span),
            Snapshot = snapshot,
        };
    }

    /// <summary>Receives one snapshot: the Snap message, then the store's snapshot stream written
    /// to a file (synced) under the member directory; Raft gets the message with a reference to
    /// that file as its data (<see cref="SnapshotFile"/>), never the store in memory. The stream
    /// runs to the end of the connection, so a sender that dies or a connection cut mid-stream
    /// looks like its end: the file is checked whole (its end marker and SHA-256) before Raft
    /// hears of it, and dropped otherwise (false). Until 2026-11-28 a cut-short stream was handed
    /// on, and the member's Raft loop stopped when its restore failed (found by ChaosTests).</summary>
    private async Task<bool> ReceiveSnapshotAsync(Stream stream, ulong from)
    {
        var header = new byte[4];
        await stream.ReadExactlyAsync(header, _stop.Token).ConfigureAwait(false);
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length <= 0 || length > 16 * 1024 * 1024)
        {
            return false;
        }
        var frame = new byte[length];
        await stream.ReadExactlyAsync(frame, _stop.Token).ConfigureAwait(false);
        var m = RaftEncoding.ReadMessage(frame);
        if (m.Type != MessageType.Snap || m.Snapshot is null || m.From != from || m.To != _loop.MemberId)
        {
            return false;
        }
        var path = SnapshotFile.NewPath(_options.DataDir, m.Snapshot.Metadata.Index);
        var saveStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        var received = false;
        _loop.Metrics.Peers.SnapshotReceiveStarted(from);
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await stream.CopyToAsync(file, _stop.Token).ConfigureAwait(false);
                await file.FlushAsync(_stop.Token).ConfigureAwait(false);
                var syncStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                file.Flush(flushToDisk: true);
                // etcd's .snap.db series: the fsync, and the whole save from the first byte received.
                _loop.Metrics.ObserveSnapshotDbSave(System.Diagnostics.Stopwatch.GetElapsedTime(syncStarted), System.Diagnostics.Stopwatch.GetElapsedTime(saveStarted));
            }
            await using (var check = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            {
                await Task.Run(() => Ketch.Mvcc.KvStore.VerifySnapshot(check), _stop.Token).ConfigureAwait(false);
            }
            received = true;
        }
        catch (InvalidDataException e)
        {
            LogSnapshotDropped(_log, from, m.Snapshot.Metadata.Index, new FileInfo(path).Length, e.Message);
            File.Delete(path);
            return false;
        }
        catch
        {
            File.Delete(path);
            throw;
        }
        finally
        {
            _loop.Metrics.Peers.SnapshotReceiveEnded(from, received, System.Diagnostics.Stopwatch.GetElapsedTime(saveStarted));
        }
        LogSnapshotReceived(_log, from, m.Snapshot.Metadata.Index, new FileInfo(path).Length);
        _loop.Receive(new Message
        {
            Type = m.Type,
            To = m.To,
            From = m.From,
            Term = m.Term,
            Snapshot = new Snapshot(SnapshotFile.Reference(path), m.Snapshot.Metadata),
        });
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var l in _listeners)
        {
            l.Stop();
        }
        foreach (var s in _senders.Values)
        {
            await s.DisposeAsync().ConfigureAwait(false);
        }
        _senders.Clear();
        try
        {
            await Task.WhenAll(_tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "received a snapshot at index {Index} from {From:x16} ({Bytes} bytes)")]
    private static partial void LogSnapshotReceived(ILogger log, ulong from, ulong index, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "dropped the snapshot at index {Index} from {From:x16} ({Bytes} bytes received): {Reason}")]
    private static partial void LogSnapshotDropped(ILogger log, ulong from, ulong index, long bytes, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS handshake with a peer connection from {Remote} failed: {Reason}")]
    private static partial void LogTlsRefused(ILogger log, string remote, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused peer {From:x16}: it was removed from the cluster")]
    private static partial void LogRefusedRemoved(ILogger log, ulong from);

    [LoggerMessage(Level = LogLevel.Warning, Message = "accepting a peer connection on {Listener} failed: {Reason}; retrying in {WaitMs} ms")]
    private static partial void LogAcceptFailed(ILogger log, string listener, string reason, double waitMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused peer {From:x16}: it belongs to cluster {Theirs:x16}, we are {Ours:x16}")]
    private static partial void LogForeign(ILogger log, ulong from, ulong theirs, ulong ours);
}
