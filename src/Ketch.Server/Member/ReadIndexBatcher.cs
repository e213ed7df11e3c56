using Grpc.Core;

namespace Ketch.Server.Member;

/// <summary>
/// Batches linearizable reads (Raft thesis §6.4): readers arriving while no read index is being
/// asked for share the next request; each batch is answered once the state machine has applied
/// up to the read index Raft returns for it.
/// </summary>
internal sealed class ReadIndexBatcher
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, TaskCompletionSource<ulong>> _inflight = [];
    private readonly List<(ulong Index, TaskCompletionSource<ulong> Batch)> _awaitingApply = [];
    private TaskCompletionSource<ulong>? _collecting;

    /// <summary>Joins the collecting batch; <paramref name="kick"/> is true for its first reader,
    /// who must tell the loop to ask for a read index.</summary>
    public Task<ulong> Join(out bool kick)
    {
        lock (_lock)
        {
            kick = _collecting is null;
            _collecting ??= new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _collecting.Task;
        }
    }

    /// <summary>Loop: takes the collecting batch to send under <paramref name="context"/>.</summary>
    public bool Send(ulong context)
    {
        lock (_lock)
        {
            if (_collecting is null)
            {
                return false;
            }
            _inflight[context] = _collecting;
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
                b.TrySetException(error);
            }
        }
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
                b.TrySetResult(index);
            }
            else
            {
                _awaitingApply.Add((index, b));
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
                b.TrySetException(error);
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
