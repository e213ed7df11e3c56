using Google.Protobuf;
using Grpc.Core;
using Ketch.Raft;
using Ketch.Server.Api;
using Ketch.Server.Apply;

namespace Ketch.Server.Member;

internal sealed partial class RaftLoop
{
    /// <summary>The member's max gap between committed and applied before refusing proposals (etcd: 5,000).</summary>
    private const ulong MaxApplyGap = 5000;

    /// <summary>Proposes <paramref name="request"/> and waits until this member applied it.</summary>
    /// <param name="kind">What the request is.</param>
    /// <param name="request">The etcd request.</param>
    /// <param name="ct">Cancels the wait.</param>
    /// <param name="auth">The client's user and the auth revision its permissions were checked at:
    /// every member re-checks the request with them when it applies it. Null for the member's own
    /// proposals (lease expiry, compaction, attributes), which are not checked.</param>
    public async Task<ApplyResult> ProposeAsync(RaftRequestKind kind, IMessage request, CancellationToken ct, Auth.RequestAuth? auth = null)
    {
        ThrowIfFailed();
        if (CommitIndex > AppliedIndex + MaxApplyGap)
        {
            throw EtcdErrors.TooManyRequests;
        }
        var id = _ids.Next();
        var data = RaftRequest.Encode(kind, id, request, auth);
        if (data.Length > _options.MaxRequestBytes + RaftRequest.HeaderBytes + 1024 + (auth is null ? 0 : RaftRequest.AuthFixedBytes + (auth.User.Length * 3)))
        {
            throw EtcdErrors.RequestTooLarge;
        }
        var waiter = _waiters.Register(id, Deadline()) ?? throw EtcdErrors.TooManyRequests;
        return await WaitAsync(id, waiter, new LoopCommand(LoopCommandKind.Propose, id, data), ct).ConfigureAwait(false);
    }

    /// <summary>Proposes a membership change carrying <paramref name="memberJson"/> (the member's
    /// attributes) and waits until it is applied here.</summary>
    public async Task<ApplyResult> ProposeConfChangeAsync(ConfChangeType type, ulong nodeId, byte[] memberJson, CancellationToken ct)
    {
        ThrowIfFailed();
        var id = _ids.Next();
        var context = new byte[8 + memberJson.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(context, id);
        memberJson.CopyTo(context, 8);
        var cc = new ConfChange(type, nodeId, context).ToV2();
        var waiter = _waiters.Register(id, Deadline()) ?? throw EtcdErrors.TooManyRequests;
        return await WaitAsync(id, waiter, new LoopCommand(LoopCommandKind.ProposeConfChange, id, ConfChange: cc), ct).ConfigureAwait(false);
    }

    /// <summary>When a proposal made now times out, on the loop's clock.</summary>
    private long Deadline() =>
        _time.GetTimestamp() + (long)(_options.EffectiveRequestTimeout.TotalSeconds * _time.TimestampFrequency);

    private async Task<ApplyResult> WaitAsync(ulong id, Waiters.Waiter waiter, LoopCommand command, CancellationToken ct)
    {
        // The loop fails the waiter at its deadline (on a tick) or when it stops; only the client's
        // own cancellation needs a registration here.
        using var cancel = ct.CanBeCanceled
            ? ct.UnsafeRegister(static s => ((Waiters.Waiter)s!).TrySetCanceled(), waiter)
            : default;
        try
        {
            if (!_commands.Writer.TryWrite(command))
            {
                await EnqueueSlowAsync(command, ct).ConfigureAwait(false);
            }
            return await waiter.Task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _waiters.Cancel(id);
            throw WaitEnded(ct);
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            _waiters.Cancel(id);
            throw EtcdErrors.Stopped;
        }
    }

    /// <summary>The loop's queue is full: wait for room, at most the request timeout.</summary>
    private async Task EnqueueSlowAsync(LoopCommand command, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
        timeout.CancelAfter(_options.EffectiveRequestTimeout);
        await _commands.Writer.WriteAsync(command, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>Waits until this member has applied everything committed before the call (a
    /// linearizable read point), sharing one read-index round with concurrent callers.</summary>
    public async Task WaitLinearizableAsync(CancellationToken ct)
    {
        ThrowIfFailed();
        var batch = _reads.Join(out var kick);
        if (kick)
        {
            // The batch is every concurrent reader's, so asking for it must not hang on this
            // reader's cancellation: a full queue or a lost command leaves it to the loop's next
            // tick (RetryReads), which sends any batch still collecting.
            _commands.Writer.TryWrite(new LoopCommand(LoopCommandKind.ReadIndex));
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
        timeout.CancelAfter(_options.EffectiveRequestTimeout);
        try
        {
            await batch.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw WaitEnded(ct);
        }
    }

    /// <summary>Why a wait bounded by the request timeout ended early: the caller gave up
    /// (<paramref name="ct"/>), the member is stopping, or the timeout passed.</summary>
    private Grpc.Core.RpcException WaitEnded(CancellationToken ct) =>
        ct.IsCancellationRequested ? EtcdErrors.Canceled : _stop.IsCancellationRequested ? EtcdErrors.Stopped : EtcdErrors.Timeout;

    /// <summary>A message from a peer; dropped when the queue is full (Raft retransmits).</summary>
    public void Receive(Message message) => _commands.Writer.TryWrite(new LoopCommand(LoopCommandKind.Step, Message: message));

    public void ReportUnreachable(ulong id) => _commands.Writer.TryWrite(new LoopCommand(LoopCommandKind.ReportUnreachable, id));

    public void ReportSnapshot(ulong id, bool failed) => _commands.Writer.TryWrite(new LoopCommand(LoopCommandKind.ReportSnapshot, id, Flag: failed));

    /// <summary>Asks the leader (this member) to hand leadership to <paramref name="target"/>.</summary>
    public ValueTask TransferLeadershipAsync(ulong target, CancellationToken ct) =>
        _commands.Writer.WriteAsync(new LoopCommand(LoopCommandKind.TransferLeader, target), ct);

    /// <summary>Completes when a leader is known.</summary>
    public Task WaitForLeaderAsync(CancellationToken ct) => _leaderKnown.Task.WaitAsync(ct);

    /// <summary>The Raft status (progress of followers on a leader); read on the caller's
    /// thread, so fields may be a moment old.</summary>
    public Ketch.Raft.Status RaftStatus() => _status;

    /// <summary>Keys whose current version is attached to the lease.</summary>
    public List<byte[]> AttachedKeys(long leaseId) => _applier.AttachedKeys(leaseId);

    /// <summary>A fresh unique id (lease ids, member ids).</summary>
    public ulong NextId() => _ids.Next();

    private void ThrowIfFailed()
    {
        if (Failed is not null || _stop.IsCancellationRequested)
        {
            throw EtcdErrors.Stopped;
        }
    }
}
