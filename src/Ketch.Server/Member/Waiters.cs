using System.Collections.Concurrent;
using Grpc.Core;
using Ketch.Server.Apply;

namespace Ketch.Server.Member;

/// <summary>Clients waiting for their proposal to be applied, by request id; bounded.</summary>
internal sealed class Waiters(int capacity)
{
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<ApplyResult>> _waiting = new();

    public int Count => _waiting.Count;

    /// <summary>Registers a waiter; null when too many requests are pending.</summary>
    public TaskCompletionSource<ApplyResult>? Register(ulong id)
    {
        if (_waiting.Count >= capacity)
        {
            return null;
        }
        var tcs = new TaskCompletionSource<ApplyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = tcs;
        return tcs;
    }

    public void Trigger(ulong id, ApplyResult result)
    {
        if (_waiting.TryRemove(id, out var tcs))
        {
            tcs.TrySetResult(result);
        }
    }

    public void Cancel(ulong id) => _waiting.TryRemove(id, out _);

    public void FailAll(RpcException error)
    {
        foreach (var id in _waiting.Keys)
        {
            if (_waiting.TryRemove(id, out var tcs))
            {
                tcs.TrySetException(error);
            }
        }
    }
}
