using System.Buffers.Binary;

namespace Ketch.Raft;

/// <summary>
/// The leader's pending read-index requests under <see cref="ReadOnlyOption.Safe"/>: each is
/// recorded with the commit index at its arrival and answered once a quorum has acknowledged a
/// heartbeat sent after it. Requests are kept in arrival order, so an acknowledgement of a later
/// request's heartbeat answers every earlier one too: one round serves a whole batch.
/// </summary>
/// <remarks>
/// Heartbeats carry a <em>round id</em> the leader draws from a counter that never repeats, not
/// the client's context. Matching acknowledgements by the client's context cannot tell rounds
/// apart: a duplicated, delayed request re-queued behind a newer read could be completed by
/// acknowledgements of its earlier round, answering the newer read without any heartbeat sent
/// after it arrived — a stale read from a deposed leader (found by the cluster simulator, seed
/// 151855 with --membership).
/// </remarks>
internal sealed class ReadOnly
{
    private readonly Dictionary<ulong, Pending> _pending = [];
    private readonly HashSet<string> _contexts = new(StringComparer.Ordinal);
    private readonly Queue<ulong> _queue = new();

    public ReadOnly(ReadOnlyOption option) => Option = option;

    public ReadOnlyOption Option { get; }

    public int Count => _queue.Count;

    /// <summary>Records a request that arrived when the commit index was <paramref name="index"/>,
    /// under the fresh round id <paramref name="round"/>. A request whose context is already
    /// pending is ignored (a retransmission) and false is returned.</summary>
    public bool Add(ulong round, ulong index, Message request)
    {
        var key = Convert.ToBase64String(request.Context.Span);
        if (!_contexts.Add(key))
        {
            return false;
        }
        _pending[round] = new Pending(index, request, key);
        _queue.Enqueue(round);
        return true;
    }

    /// <summary>Records that <paramref name="from"/> acknowledged the heartbeat of the round in
    /// <paramref name="roundContext"/>; returns the acknowledgements so far, or null if that round
    /// is not pending (already answered, or not ours).</summary>
    public IReadOnlyDictionary<ulong, bool>? Acknowledge(ulong from, ReadOnlySpan<byte> roundContext)
    {
        if (!TryDecodeRound(roundContext, out var round) || !_pending.TryGetValue(round, out var p))
        {
            return null;
        }
        p.Acks[from] = true;
        return p.Acks;
    }

    /// <summary>Removes and returns every request up to and including round
    /// <paramref name="roundContext"/>, oldest first.</summary>
    public List<(ulong Index, Message Request)> Advance(ReadOnlySpan<byte> roundContext)
    {
        var served = new List<(ulong, Message)>();
        if (!TryDecodeRound(roundContext, out var round) || !_pending.ContainsKey(round))
        {
            return served;
        }
        while (_queue.TryDequeue(out var r))
        {
            var p = _pending[r];
            _pending.Remove(r);
            _contexts.Remove(p.Key);
            served.Add((p.Index, p.Request));
            if (r == round)
            {
                break;
            }
        }
        return served;
    }

    /// <summary>The round context of the newest pending request, carried by the next heartbeat
    /// so that a lost round is retried.</summary>
    public ReadOnlyMemory<byte> LastPendingContext()
    {
        ulong? last = null;
        foreach (var r in _queue)
        {
            last = r;
        }
        return last is { } round ? EncodeRound(round) : ReadOnlyMemory<byte>.Empty;
    }

    /// <summary>The heartbeat context of a round: its id, 8 bytes big-endian.</summary>
    public static byte[] EncodeRound(ulong round)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, round);
        return bytes;
    }

    private static bool TryDecodeRound(ReadOnlySpan<byte> context, out ulong round)
    {
        if (context.Length != 8)
        {
            round = 0;
            return false;
        }
        round = BinaryPrimitives.ReadUInt64BigEndian(context);
        return true;
    }

    private sealed class Pending(ulong index, Message request, string key)
    {
        public ulong Index { get; } = index;

        public Message Request { get; } = request;

        public string Key { get; } = key;

        public Dictionary<ulong, bool> Acks { get; } = [];
    }
}
