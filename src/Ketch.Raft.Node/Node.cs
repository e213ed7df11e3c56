using System.Threading.Channels;

namespace Ketch.Raft;

/// <summary>
/// A Raft member with its own loop: the asynchronous counterpart of <see cref="RawNode"/>, with
/// the interface of etcd-io/raft's Node. One task owns the RawNode; every call becomes a command
/// on a bounded queue that the loop steps in order. The application reads <see cref="Ready"/>,
/// handles each Ready exactly as <see cref="Ketch.Raft.Ready"/> documents, and calls
/// <see cref="Advance"/>; the next Ready is produced only after that, so Readys are never lost,
/// duplicated or reordered.
/// </summary>
public sealed class Node : IAsyncDisposable
{
    /// <summary>Ticks that may queue up while the loop is busy; more are dropped (a slow loop
    /// must not turn into a burst of elections later), as etcd-io/raft does.</summary>
    public const int MaxPendingTicks = 128;

    private const int CommandQueueCapacity = 4096;

    private readonly RawNode _raw;
    private readonly Channel<Command> _commands;
    private readonly Channel<bool> _wake;
    private readonly Channel<Ready> _ready;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _pendingTicks;
    private int _advanceRequested;
    private bool _awaitingAdvance;

    private Node(RaftConfig config)
    {
        _raw = new RawNode(config);
        _commands = Channel.CreateBounded<Command>(new BoundedChannelOptions(CommandQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.DropWrite,
        });
        // At most one Ready is outstanding, so one slot is all the channel ever needs.
        _ready = Channel.CreateBounded<Ready>(new BoundedChannelOptions(1) { SingleWriter = true });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Starts a member (new or restarting: <see cref="RaftConfig.Storage"/> decides).</summary>
    public static Node Start(RaftConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new Node(config);
    }

    /// <summary>This member's id.</summary>
    public ulong Id => _raw.Id;

    /// <summary>The Readys to handle, one at a time, in order. Completes when the node stops.</summary>
    public ChannelReader<Ready> Ready => _ready.Reader;

    /// <summary>Advances logical time by one tick. Never blocks; see <see cref="MaxPendingTicks"/>.</summary>
    public void Tick()
    {
        if (Interlocked.Increment(ref _pendingTicks) > MaxPendingTicks)
        {
            Interlocked.Decrement(ref _pendingTicks);
            return;
        }
        _wake.Writer.TryWrite(true);
    }

    /// <summary>Tells the loop the last Ready was handled (persisted, sent, applied).</summary>
    public void Advance()
    {
        Volatile.Write(ref _advanceRequested, 1);
        _wake.Writer.TryWrite(true);
    }

    /// <summary>Starts an election now.</summary>
    public Task CampaignAsync(CancellationToken cancellationToken = default) =>
        RunAsync(raw => { raw.Campaign(); return true; }, cancellationToken);

    /// <summary>Proposes data to be appended to the log. The result says whether it was
    /// accepted (appended or forwarded) — not whether it committed: watch the committed entries.</summary>
    public Task<StepResult> ProposeAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        RunAsync(raw => raw.Propose(data), cancellationToken);

    /// <summary>Proposes a single-operation membership change.</summary>
    public Task<StepResult> ProposeConfChangeAsync(ConfChange cc, CancellationToken cancellationToken = default) =>
        RunAsync(raw => raw.ProposeConfChange(cc), cancellationToken);

    /// <summary>Proposes a membership change of any size (joint consensus when needed).</summary>
    public Task<StepResult> ProposeConfChangeAsync(ConfChangeV2 cc, CancellationToken cancellationToken = default) =>
        RunAsync(raw => raw.ProposeConfChange(cc), cancellationToken);

    /// <summary>Steps a message received from a peer.</summary>
    public Task<StepResult> StepAsync(Message message, CancellationToken cancellationToken = default) =>
        RunAsync(raw => raw.Step(message), cancellationToken);

    /// <summary>Switches to the configuration a committed change leads to (call while applying it).</summary>
    public Task<ConfState> ApplyConfChangeAsync(ConfChangeV2 cc, CancellationToken cancellationToken = default) =>
        RunAsync(raw => raw.ApplyConfChange(cc), cancellationToken);

    /// <summary>Asks the leader to hand leadership to <paramref name="transferee"/>.</summary>
    public Task<StepResult> TransferLeadershipAsync(ulong transferee, CancellationToken cancellationToken = default) =>
        RunAsync(raw => raw.TransferLeadership(transferee), cancellationToken);

    /// <summary>Requests a read index; the answer arrives as a <see cref="ReadState"/> in a Ready.</summary>
    public Task<StepResult> ReadIndexAsync(ReadOnlyMemory<byte> requestContext, CancellationToken cancellationToken = default) =>
        RunAsync(raw => raw.ReadIndex(requestContext), cancellationToken);

    /// <summary>The member's current state.</summary>
    public Task<Status> StatusAsync(CancellationToken cancellationToken = default) =>
        RunAsync(raw => raw.Status(), cancellationToken);

    /// <summary>Tells the leader a message to <paramref name="id"/> could not be sent.</summary>
    public void ReportUnreachable(ulong id) => Post(raw => { raw.ReportUnreachable(id); return true; });

    /// <summary>Tells the leader whether a snapshot reached <paramref name="id"/>.</summary>
    public void ReportSnapshot(ulong id, bool failed) => Post(raw => { raw.ReportSnapshot(id, failed); return true; });

    /// <summary>Stops the loop; pending and later requests fail with <see cref="NodeStoppedException"/>.</summary>
    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
        _wake.Writer.TryWrite(true);
        await _loop.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task<T> RunAsync<T>(Func<RawNode, T> action, CancellationToken cancellationToken)
    {
        var command = new Command<T>(action);
        try
        {
            await _commands.Writer.WriteAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new NodeStoppedException();
        }
        _wake.Writer.TryWrite(true);
        using (cancellationToken.Register(() => command.TrySetCanceled(cancellationToken)))
        {
            return await command.Task.ConfigureAwait(false);
        }
    }

    private void Post(Func<RawNode, bool> action)
    {
        // Reports are advisory: if the queue is full or the node stopped, dropping one only
        // delays the leader's reaction until the next heartbeat round.
        if (_commands.Writer.TryWrite(new Command<bool>(action)))
        {
            _wake.Writer.TryWrite(true);
        }
    }

    private async Task RunAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (Interlocked.Exchange(ref _advanceRequested, 0) == 1 && _awaitingAdvance)
                {
                    _raw.Advance();
                    _awaitingAdvance = false;
                }
                var ticks = Interlocked.Exchange(ref _pendingTicks, 0);
                for (var i = 0; i < ticks; i++)
                {
                    _raw.Tick();
                }
                // Take a bounded batch so that a flood of proposals cannot starve Ready delivery.
                for (var i = 0; i < 256 && _commands.Reader.TryRead(out var command); i++)
                {
                    command.Execute(_raw);
                }
                if (!_awaitingAdvance && _raw.HasReady())
                {
                    _awaitingAdvance = true;
                    if (!_ready.Writer.TryWrite(_raw.Ready()))
                    {
                        throw new InvalidOperationException("ready channel full although no Ready is outstanding");
                    }
                }
                if (_commands.Reader.Count > 0 || Volatile.Read(ref _pendingTicks) > 0
                    || (Volatile.Read(ref _advanceRequested) == 1 && _awaitingAdvance))
                {
                    continue;
                }
                await _wake.Reader.ReadAsync(_stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        finally
        {
            _commands.Writer.TryComplete();
            _ready.Writer.TryComplete();
            while (_commands.Reader.TryRead(out var command))
            {
                command.Fail(new NodeStoppedException());
            }
        }
    }

    private abstract class Command
    {
        public abstract void Execute(RawNode raw);

        public abstract void Fail(Exception error);
    }

    private sealed class Command<T>(Func<RawNode, T> action) : Command
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _done.Task;

        public override void Execute(RawNode raw)
        {
            if (_done.Task.IsCompleted)
            {
                return; // cancelled by the caller before it ran
            }
            try
            {
                _done.TrySetResult(action(raw));
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                // A refused request (invalid conf change, bad argument) goes back to its caller;
                // the loop carries on.
                _done.TrySetException(e);
            }
        }

        public override void Fail(Exception error) => _done.TrySetException(error);

        public void TrySetCanceled(CancellationToken token) => _done.TrySetCanceled(token);
    }
}
