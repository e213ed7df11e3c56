using System.Collections.Concurrent;
using Grpc.Core;
using Ketch.Server.Apply;

namespace Ketch.Server.Member;

/// <summary>
/// Clients waiting for their proposal to be applied, by request id; bounded. Each waiter has a
/// deadline that the Raft loop's clock enforces (<see cref="ExpireDue"/> on every tick), so a
/// proposal costs no timer of its own: per-request timers were a lock-protected timer-queue insert
/// and removal for every write.
/// </summary>
internal sealed class Waiters(int capacity)
{
    private readonly ConcurrentDictionary<ulong, Waiter> _waiting = new();

    public int Count => _waiting.Count;

    /// <summary>Registers a waiter that fails with a timeout at <paramref name="deadline"/> (a
    /// <see cref="TimeProvider.GetTimestamp"/> value); null when too many requests are pending.</summary>
    public Waiter? Register(ulong id, long deadline)
    {
        if (_waiting.Count >= capacity)
        {
            return null;
        }
        var waiter = new Waiter(deadline);
        _waiting[id] = waiter;
        return waiter;
    }

    public void Trigger(ulong id, ApplyResult result)
    {
        if (_waiting.TryRemove(id, out var waiter))
        {
            waiter.TrySetResult(result);
        }
    }

    public void Cancel(ulong id) => _waiting.TryRemove(id, out _);

    /// <summary>Fails every waiter whose deadline is at or before <paramref name="now"/>.</summary>
    public void ExpireDue(long now, RpcException error)
    {
        foreach (var (id, waiter) in _waiting)
        {
            if (waiter.Deadline <= now && _waiting.TryRemove(id, out var expired))
            {
                expired.TrySetException(error);
            }
        }
    }

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

    /// <summary>One client's wait for its proposal: completed by the apply, a timeout or a stop.</summary>
    internal sealed class Waiter(long deadline) : TaskCompletionSource<ApplyResult>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public long Deadline { get; } = deadline;
    }
}
