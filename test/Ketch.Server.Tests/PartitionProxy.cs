using System.Net;
using System.Net.Sockets;
using Ketch.Server.Peer;

namespace Ketch.Server.Tests;

/// <summary>
/// A fault-injecting TCP proxy in front of one member's peer port: every member dials the peer URL
/// it advertises, which is this proxy, and the proxy forwards to the member's real listener. It reads
/// the peer handshake (from, to) at the start of each connection, so a partition can cut exactly
/// the links between two groups while every process keeps running: blocked connections are
/// refused (or, in a silent partition, accepted and never answered: a black hole), and open ones
/// across the cut are closed when the partition starts.
/// </summary>
internal sealed class PartitionProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly Func<ulong, ulong, bool> _allowed;
    private readonly Func<bool> _silent;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<(ulong From, ulong To, TcpClient A, TcpClient B)> _open = [];
    private readonly Task _accepting;

    /// <param name="listen">Where the proxy listens (the member's advertised peer address).</param>
    /// <param name="target">The member's real peer listener.</param>
    /// <param name="allowed">Whether a connection from one member id to another may pass now.</param>
    /// <param name="silent">Whether a blocked connection is held open unanswered rather than closed.</param>
    public PartitionProxy(IPEndPoint listen, IPEndPoint target, Func<ulong, ulong, bool> allowed, Func<bool> silent)
    {
        _target = target;
        _allowed = allowed;
        _silent = silent;
        _listener = new TcpListener(listen);
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    /// <summary>Blocked connections held unanswered so far (silent partitions), by (from, to).</summary>
    public int Held(ulong from, ulong to)
    {
        lock (_lock)
        {
            return _held.TryGetValue((from, to), out var n) ? n : 0;
        }
    }

    private readonly Dictionary<(ulong, ulong), int> _held = [];

    /// <summary>Closes the open connections that <c>allowed</c> no longer lets through.</summary>
    public void Enforce()
    {
        lock (_lock)
        {
            foreach (var c in _open.Where(c => !_allowed(c.From, c.To)).ToList())
            {
                c.A.Dispose();
                c.B.Dispose();
                _open.Remove(c);
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient a)
    {
        TcpClient? b = null;
        (ulong, ulong, TcpClient, TcpClient)? entry = null;
        try
        {
            var head = new byte[PeerHandshake.Bytes];
            await a.GetStream().ReadExactlyAsync(head, _stop.Token);
            // Cluster queries (all-zero ids) always pass: they carry no Raft traffic.
            PeerHandshake.TryRead(head, out _, out var from, out var to, out _);
            if (from != 0 && !_allowed(from, to))
            {
                if (_silent())
                {
                    // A black hole: the dialler's handshake went out and no answer ever comes back.
                    lock (_lock)
                    {
                        _held[(from, to)] = _held.GetValueOrDefault((from, to)) + 1;
                    }
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }
                return;
            }
            b = new TcpClient { NoDelay = true };
            await b.ConnectAsync(_target, _stop.Token);
            await b.GetStream().WriteAsync(head, _stop.Token);
            entry = (from, to, a, b);
            lock (_lock)
            {
                _open.Add(entry.Value);
            }
            await Task.WhenAny(PumpAsync(a, b), PumpAsync(b, a));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
        {
            // A cut or a closed side: the member sees a broken connection, as with a real network.
        }
        finally
        {
            if (entry is { } en)
            {
                lock (_lock)
                {
                    _open.Remove(en);
                }
            }
            a.Dispose();
            b?.Dispose();
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.GetStream().ReadAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    return;
                }
                await to.GetStream().WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_lock)
        {
            foreach (var c in _open)
            {
                c.A.Dispose();
                c.B.Dispose();
            }
            _open.Clear();
        }
        _stop.Dispose();
    }
}
