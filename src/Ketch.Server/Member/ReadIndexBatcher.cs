using Grpc.Core;

namespace Ketch.Server.Member;

/// <summary>
/// Batches linearizable reads (Raft thesis §6.4): readers arriving while no read index is being
/// asked for share the next request; each batch is answered once the state machine has applied
/// up to the read index Raft returns for it.
/// </summary>
/// <remarks>
/// A read index request can go unanswered without a leader change this member sees: the member it
/// was forwarded to had just lost its leadership, or the message was dropped on the way. So the
/// loop asks again for batches unanswered for a while (<see cref="Due"/>), under the same context,
/// as etcd retries its read index requests, and fails them once no reader can still be waiting.
/// A batch is never left without a request in flight: the loop also sends a collecting batch on its
/// clock (<see cref="HasCollecting"/>), so a batch whose first reader could not hand it to the loop
/// (its request was cancelled, the loop's queue was full) is still asked for.
/// </remarks>
internal sealed class ReadIndexBatcher
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, Inflight> _inflight = [];
    private readonly List<(ulong Index, TaskCompletionSource<ulong> Batch)> _awaitingApply = [];
    private TaskCompletionSource<ulong>? _collecting;

    /// <summary>A batch whose read index was asked for: when first, and when last.</summary>
    private sealed class Inflight(TaskCompletionSource<ulong> batch, long sentAt)
    {
        public TaskCompletionSource<ulong> Batch { get; } = batch;

        public long SentAt { get; } = sentAt;

        public long AskedAt { get; set; } = sentAt;
    }

    /// <summary>Whether readers are waiting for a batch that has not been sent.</summary>
    public bool HasCollecting
    {
        get
        {
            lock (_lock)
            {
                return _collecting is not null;
            }
        }
    }

    /// <summary>Batches sent and not answered yet.</summary>
    public int InflightCount
    {
        get
        {
            lock (_lock)
            {
                return _inflight.Count;
            }
        }
    }

    /// <summary>Joins the collecting batch; <paramref name="kick"/> is true for its first reader,
    /// who should tell the loop to ask for a read index.</summary>
    public Task<ulong> Join(out bool kick)
    {
        lock (_lock)
        {
            kick = _collecting is null;
            _collecting ??= new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _collecting.Task;
        }
    }

    /// <summary>Loop: takes the collecting batch to send under <paramref name="context"/> at
    /// <paramref name="now"/> (the loop's tick count).</summary>
    public bool Send(ulong context, long now)
    {
        lock (_lock)
        {
            if (_collecting is null)
            {
                return false;
            }
            _inflight[context] = new Inflight(_collecting, now);
            _collecting = null;
            return true;
        }
    }

    public void Fail(ulong context, RpcException error)
    {
        lock (_lock)
        {
            if (_inflight.Remove(context, out var b))
            {
                b.Batch.TrySetException(error);
            }
        }
    }

    /// <summary>
    /// Loop, on its clock: fails with <paramref name="expired"/> the batches sent at least
    /// <paramref name="expireAfter"/> ticks ago (every reader of theirs has given up by then), and
    /// returns the contexts of the others not asked for in the last <paramref name="retryAfter"/>
    /// ticks, marked as asked now, for the loop to ask again.
    /// </summary>
    public IReadOnlyList<ulong> Due(long now, long retryAfter, long expireAfter, RpcException expired, out int expiredCount)
    {
        List<ulong>? again = null; // most ticks find nothing due: no list then
        expiredCount = 0;
        lock (_lock)
        {
            foreach (var (context, b) in _inflight)
            {
                if (now - b.SentAt >= expireAfter)
                {
                    b.Batch.TrySetException(expired);
                    _inflight.Remove(context);
                    expiredCount++;
                }
                else if (now - b.AskedAt >= retryAfter)
                {
                    b.AskedAt = now;
                    (again ??= []).Add(context);
                }
            }
        }
        return again ?? [];
    }

    /// <summary>Loop: Raft answered <paramref name="context"/> with <paramref name="index"/>.</summary>
    public void OnReadState(ulong context, ulong index, ulong applied)
    {
        lock (_lock)
        {
            if (!_inflight.Remove(context, out var b))
            {
                return;
            }
            if (index <= applied)
            {
                b.Batch.TrySetResult(index);
            }
            else
            {
                _awaitingApply.Add((index, b.Batch));
            }
        }
    }

    public void OnApplied(ulong applied)
    {
        lock (_lock)
        {
            for (var i = _awaitingApply.Count - 1; i >= 0; i--)
            {
                if (_awaitingApply[i].Index <= applied)
                {
                    _awaitingApply[i].Batch.TrySetResult(_awaitingApply[i].Index);
                    _awaitingApply.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Leadership changed or the member stops: pending read indexes will never come.</summary>
    public void FailInflight(RpcException error, bool includeCollecting)
    {
        lock (_lock)
        {
            foreach (var b in _inflight.Values)
            {
                b.Batch.TrySetException(error);
            }
            _inflight.Clear();
            if (includeCollecting && _collecting is not null)
            {
                _collecting.TrySetException(error);
                _collecting = null;
            }
        }
    }
}
