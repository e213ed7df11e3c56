namespace Ketch.Raft;

/// <summary>
/// The leader's pending read-index requests under <see cref="ReadOnlyOption.Safe"/>: each is
/// recorded with the commit index at its arrival and answered once a quorum has acknowledged a
/// heartbeat sent after it. Requests are kept in arrival order, so an acknowledgement of a later
/// request's heartbeat answers every earlier one too: one round serves a whole batch.
/// </summary>
internal sealed class ReadOnly
{
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly Queue<string> _queue = new();

    public ReadOnly(ReadOnlyOption option) => Option = option;

    public ReadOnlyOption Option { get; }

    public int Count => _queue.Count;

    /// <summary>Records a request that arrived when the commit index was <paramref name="index"/>.
    /// A context already pending is ignored (a retransmission).</summary>
    public void Add(ulong index, Message request)
    {
        var key = Key(request.Context.Span);
        if (_pending.ContainsKey(key))
        {
            return;
        }
        _pending[key] = new Pending(index, request);
        _queue.Enqueue(key);
    }

    /// <summary>Records that <paramref name="from"/> acknowledged the heartbeat carrying
    /// <paramref name="context"/>; returns the acknowledgements so far, or null if unknown.</summary>
    public IReadOnlyDictionary<ulong, bool>? Acknowledge(ulong from, ReadOnlySpan<byte> context)
    {
        if (!_pending.TryGetValue(Key(context), out var p))
        {
            return null;
        }
        p.Acks[from] = true;
        return p.Acks;
    }

    /// <summary>Removes and returns every request up to and including the one with
    /// <paramref name="context"/>, oldest first.</summary>
    public List<(ulong Index, Message Request)> Advance(ReadOnlySpan<byte> context)
    {
        var key = Key(context);
        var served = new List<(ulong, Message)>();
        if (!_pending.ContainsKey(key))
        {
            return served;
        }
        while (_queue.TryDequeue(out var k))
        {
            var p = _pending[k];
            _pending.Remove(k);
            served.Add((p.Index, p.Request));
            if (k == key)
            {
                break;
            }
        }
        return served;
    }

    /// <summary>The context of the newest pending request, carried by the next heartbeat.</summary>
    public ReadOnlyMemory<byte> LastPendingContext()
    {
        string? last = null;
        foreach (var k in _queue)
        {
            last = k;
        }
        return last is null ? ReadOnlyMemory<byte>.Empty : _pending[last].Request.Context;
    }

    private static string Key(ReadOnlySpan<byte> context) => Convert.ToBase64String(context);

    private sealed class Pending(ulong index, Message request)
    {
        public ulong Index { get; } = index;

        public Message Request { get; } = request;

        public Dictionary<ulong, bool> Acks { get; } = [];
    }
}
