using System.Buffers.Binary;
using System.Threading.Channels;
using Ketch.Mvcc;
using Ketch.Raft;
using Ketch.Raft.Encoding;
using Ketch.Server.Api;
using Ketch.Server.Apply;
using Ketch.Server.Lease;
using Ketch.Server.Peer;
using Ketch.Wal;
using Microsoft.Extensions.Logging;

namespace Ketch.Server.Member;

/// <summary>
/// The member's one Raft loop. Every input (ticks, proposals, read-index requests, peer
/// messages) arrives through one bounded queue and is stepped on this loop; each
/// <see cref="Ready"/> is handled in the order its contract asks: send <see cref="Ready.Messages"/>
/// at once (in parallel with our own fsync, thesis §10.2.1), persist to the WAL (one fsync for
/// everything queued meanwhile: proposals arriving during an fsync ride in the next Ready), send
/// <see cref="Ready.MessagesAfterPersist"/>, apply committed entries, answer read states, advance.
/// </summary>
internal sealed partial class RaftLoop : IAsyncDisposable
{
    private const int CommandQueueCapacity = 8192;
    private const int MaxCommandsPerTurn = 4096;

    /// <summary>How long a read index request may go unanswered before it is asked again: etcd's
    /// interval for the same retry.</summary>
    private static readonly TimeSpan s_readIndexRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_revokeRetry = TimeSpan.FromSeconds(3); // etcd's expired-lease retry interval

    private readonly KetchServerOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly RawNode _node;
    private readonly WalStorage _storage;
    private readonly Channel<LoopCommand> _commands;
    private readonly Waiters _waiters = new(10_000);
    private readonly ReadIndexBatcher _reads = new();
    private readonly Dictionary<ulong, long> _lastHeartbeat = [];
    private readonly RequestIdGenerator _ids;
    private readonly Applier _applier;
    private readonly CancellationTokenSource _stop = new();
    private IPeerTransport? _transport;
    private ITimer? _ticker;
    private Task? _run;
    private TaskCompletionSource _leaderKnown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _removed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Exception> _failure = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // In ticks: when an unanswered read index is asked again, and when it is given up (RetryReads).
    private readonly long _readRetryTicks;
    private readonly long _readExpireTicks;
    private long _ticks;
    // While not 0: the tick until which Start's fast-forward of the election timer waits for the
    // peers' connections (AdvanceElectionTicks).
    private long _advanceUntilTick;
    private long _lastCheckpointTick;
    private ulong _lastSnapshotIndex;
    private bool _wasLeader;
    private volatile Ketch.Raft.Status _status;
    private ulong _persistedIndex;

    private RaftLoop(KetchServerOptions options, ILogger log, KvStore kv, WalStorage storage, Membership membership, Lessor lessor, ulong memberId)
    {
        _options = options;
        var tickMs = Math.Max(1, options.HeartbeatIntervalMs);
        _readRetryTicks = Math.Max(1, (long)s_readIndexRetry.TotalMilliseconds / tickMs);
        _readExpireTicks = Math.Max(_readRetryTicks + 1, (long)options.EffectiveRequestTimeout.TotalMilliseconds / tickMs);
        _log = log;
        _time = options.TimeProvider;
        Metrics = new Http.ServerMetrics(options.ExtensiveMetrics);
        Kv = kv;
        Kv.CommitObserver = Metrics.ObserveBackendCommit;
        Kv.CompactionObserver = Metrics.ObserveCompaction;
        _storage = storage;
        _storage.SnapshotSaveObserver = Metrics.ObserveSnapshotSave;
        Membership = membership;
        Lessor = lessor;
        MemberId = memberId;
        _ids = new RequestIdGenerator(memberId, _time.GetUtcNow());
        var tokens = Ketch.Server.Auth.AuthTokenSpec.Create(options.AuthToken, TimeSpan.FromSeconds(options.AuthTokenTtlSeconds), _time);
        var bcryptCost = options.BcryptCost;
        if (!Ketch.Server.Auth.PasswordHash.IsValidCost(bcryptCost))
        {
            // etcd 3.4 (auth.NewAuthStore) starts anyway, with the default and this warning.
            LogBcryptCost(log, Ketch.Server.Auth.PasswordHash.DefaultCost, bcryptCost);
            bcryptCost = Ketch.Server.Auth.PasswordHash.DefaultCost;
        }
        _applier = new Applier(kv, lessor, membership) { Auth = new Auth.AuthStore(_time, tokens, bcryptCost) };
        _applier.LeaseKeys.Rebuild(kv);
        _applier.Auth.Recover(kv);
        _commands = Channel.CreateBounded<LoopCommand>(new BoundedChannelOptions(CommandQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _node = new RawNode(new RaftConfig
        {
            Id = memberId,
            Storage = storage,
            ElectionTicks = options.ElectionTicks,
            HeartbeatTicks = 1,
            CheckQuorum = true,
            PreVote = options.PreVote,
            MaxSizePerMsgBytes = 1024 * 1024,
            MaxInflightMsgs = 256,
            RandomSeed = memberId ^ (ulong)_time.GetUtcNow().Ticks,
            Logger = new RaftLoggerAdapter(log),
        });
        _status = _node.Status();
        var hs = storage.InitialState().HardState;
        Term = hs.Term;
        CommitIndex = hs.Commit;
        AppliedIndex = kv.ConsistentIndex;
        _lastSnapshotIndex = storage.FirstIndex() - 1;
        _persistedIndex = storage.LastIndex();
    }

    public KvStore Kv { get; private set; }

    public Http.ServerMetrics Metrics { get; }

    /// <summary>Bytes of records appended to the WAL since the member started.</summary>
    public long WalBytesAppended => _storage.WalBytesAppended;

    public int PendingProposals => _waiters.Count;

    public Membership Membership { get; }

    public Lessor Lessor { get; }

    /// <summary>Users, roles, permissions and tokens (applied through Raft like everything else).</summary>
    public Auth.AuthStore Auth => _applier.Auth;

    public ulong MemberId { get; }

    public ulong ClusterId => Membership.ClusterId;

    /// <summary>The known leader, 0 when none.</summary>
    public ulong Leader { get; private set; }

    public bool IsLeader => Leader == MemberId;

    public ulong Term { get; private set; }

    public ulong CommitIndex { get; private set; }

    public ulong AppliedIndex { get; private set; }

    /// <summary>Opens the member's storage in <see cref="KetchServerOptions.DataDir"/>, creating it for a new member.</summary>
    public static RaftLoop Open(KetchServerOptions options, ILogger log, Peer.ClusterInfo? joining = null)
    {
        var memberDir = Path.Combine(options.DataDir, "member");
        Directory.CreateDirectory(memberDir);
        var walDir = string.IsNullOrEmpty(options.WalDir) ? memberDir : options.WalDir;
        // etcd: 0 means unlimited for --max-wals and --max-snapshots.
        var walOptions = new WalOptions { MaxOldSegments = options.MaxWals > 0 ? options.MaxWals : int.MaxValue };
        var keepSnapshots = options.MaxSnapshots > 0 ? options.MaxSnapshots : int.MaxValue;
        var kv = KvStore.Open(options.KvStoreOptions(Path.Combine(memberDir, "kv")));
        try
        {
            var membership = new Membership();
            var lessor = new Lessor(options.TimeProvider, MinLeaseTtlSeconds(options));
            WalStorage storage;
            if (WalStorage.Exists(walDir))
            {
                storage = WalStorage.Open(walDir, walOptions, keepSnapshots);
                if (options.ForceNewCluster)
                {
                    ForceNewCluster.Rewrite(storage, storage.Metadata.MemberId, log);
                }
                kv = FinishSnapshotInstall(options, storage, kv);
                membership.Recover(kv);
                membership.ClusterId = storage.Metadata.ClusterId;
            }
            else
            {
                var initial = ClusterConfig.Parse(InitialCluster(options), options.InitialClusterToken);
                var self = initial.FirstOrDefault(m => m.Name == options.Name)
                    ?? throw new ArgumentException($"--initial-cluster has no member named \"{options.Name}\"");
                var advertised = options.InitialAdvertisePeerUrls.Order(StringComparer.Ordinal);
                if (!self.PeerUrls.Order(StringComparer.Ordinal).SequenceEqual(advertised))
                {
                    throw new ArgumentException(
                        $"--initial-cluster has {options.Name}={string.Join(",", self.PeerUrls)} but --initial-advertise-peer-urls is {string.Join(",", options.InitialAdvertisePeerUrls)}");
                }
                var clusterId = MemberIds.ClusterId(initial.Select(m => m.Id));
                var bootstrap = ConfState.Of(initial.Select(m => m.Id));
                if (joining is not null)
                {
                    // Joining an existing cluster: its id, its member table (where MemberAdd put
                    // us, found by our peer URLs) and its current configuration without us; the
                    // conf change adding us arrives through the log.
                    var me = joining.WithPeerUrls(advertised)
                        ?? throw new ArgumentException("this member's peer URLs are not in the cluster's member list: add it with MemberAdd first");
                    self = me with { Name = options.Name };
                    clusterId = joining.ClusterId;
                    initial = [.. joining.Members.Where(m => m.Id != me.Id), self];
                    var others = joining.Members.Where(m => m.Id != me.Id).ToList();
                    bootstrap = ConfState.Of(others.Where(m => !m.IsLearner).Select(m => m.Id), others.Where(m => m.IsLearner).Select(m => m.Id));
                }
                membership.ClusterId = clusterId;
                foreach (var m in initial)
                {
                    membership.Set(kv, m);
                }
                kv.Commit();
                storage = WalStorage.Create(walDir, new WalMetadata(self.Id, clusterId, bootstrap), walOptions, keepSnapshots);
            }
            lessor.Recover(kv);
            var memberId = storage.Metadata.MemberId;
            membership.SetLocalAttributes(memberId, options.Name, options.AdvertiseClientUrls);
            return new RaftLoop(options, log, kv, storage, membership, lessor, memberId);
        }
        catch
        {
            kv.Dispose();
            throw;
        }
    }

    internal static string InitialCluster(KetchServerOptions o) =>
        string.IsNullOrWhiteSpace(o.InitialCluster)
            ? string.Join(",", o.InitialAdvertisePeerUrls.Select(u => o.Name + "=" + u))
            : o.InitialCluster;

    /// <summary>etcd's minimum lease TTL: 1.5 election timeouts, in whole seconds rounded up.</summary>
    private static long MinLeaseTtlSeconds(KetchServerOptions o) =>
        (long)Math.Ceiling(3.0 * o.ElectionTicks / 2 * o.HeartbeatIntervalMs / 1000);

    /// <summary>Since when the peer's connections have been up; null while down or without a
    /// transport (see <see cref="IPeerTransport.ActiveSince"/>).</summary>
    public DateTimeOffset? PeerActiveSince(ulong id) => _transport?.ActiveSince(id);

    /// <summary>Starts ticking and pumping. A lone voter campaigns at once.</summary>
    public void Start(IPeerTransport? transport)
    {
        _transport = transport;
        if (Membership.IsRemoved(MemberId))
        {
            // Restarted on the data of a member that applied its own removal.
            ReportRemoved();
        }
        var voters = _storage.InitialState().ConfState.Voters;
        if (voters.Count == 1 && voters[0] == MemberId)
        {
            _node.Campaign();
        }
        else if (_options.InitialElectionTickAdvance && _options.ElectionTicks > 2)
        {
            // etcd waits for the peers' connections up to rafthttp's ConnReadTimeout, 5 s.
            _advanceUntilTick = Math.Max(1, 5000 / Math.Max(1, _options.HeartbeatIntervalMs));
        }
        var hb = TimeSpan.FromMilliseconds(_options.HeartbeatIntervalMs);
        _ticker = _time.CreateTimer(_ => _commands.Writer.TryWrite(new LoopCommand(LoopCommandKind.Tick)), null, hb, hb);
        _run = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        try
        {
            var reader = _commands.Reader;
            while (!_stop.IsCancellationRequested)
            {
                if (!_node.HasReady() && !await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
                {
                    break;
                }
                for (var i = 0; i < MaxCommandsPerTurn && reader.TryRead(out var cmd); i++)
                {
                    Handle(cmd);
                }
                if (_node.HasReady())
                {
                    var rd = _node.Ready();
                    await HandleReadyAsync(rd).ConfigureAwait(false);
                    _node.Advance();
                    _reads.OnApplied(AppliedIndex);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogLoopFailed(_log, e);
            Failed = e;
            _failure.TrySetResult(e);
        }
        finally
        {
            _waiters.FailAll(EtcdErrors.Stopped);
            _reads.FailInflight(EtcdErrors.Stopped, includeCollecting: true);
        }
    }

    /// <summary>Ticks handled so far; <see cref="RaftStatus"/> is at least as new.</summary>
    internal long Ticks => Volatile.Read(ref _ticks);

    /// <summary>Set when the loop died (WAL failure): the member serves no more writes.</summary>
    public Exception? Failed { get; private set; }

    /// <summary>Completes with <see cref="Failed"/> when the loop dies. etcd exits on such failures
    /// (a WAL write or fsync, a snapshot that cannot be saved) so that its supervisor restarts it;
    /// the ketch host does too, instead of keeping a member up that serves nothing.</summary>
    public Task<Exception> Failure => _failure.Task;

    private void Handle(LoopCommand cmd)
    {
        switch (cmd.Kind)
        {
            case LoopCommandKind.Tick:
                _node.Tick();
                if (_advanceUntilTick != 0)
                {
                    AdvanceElectionTicks();
                }
                _status = _node.Status();
                // After the status: a reader that sees this tick counted sees its status.
                Volatile.Write(ref _ticks, _ticks + 1);
                _waiters.ExpireDue(_time.GetTimestamp(), EtcdErrors.Timeout);
                RetryReads();
                OnLeaderTick();
                break;
            case LoopCommandKind.Propose:
                if (_node.Propose(cmd.Data) != StepResult.Ok)
                {
                    _waiters.Trigger(cmd.Id, ApplyResult.Fail(Leader == 0 ? EtcdErrors.NoLeader : EtcdErrors.TooManyRequests));
                }
                break;
            case LoopCommandKind.ProposeConfChange:
                if (_node.ProposeConfChange(cmd.ConfChange!) != StepResult.Ok)
                {
                    _waiters.Trigger(cmd.Id, ApplyResult.Fail(Leader == 0 ? EtcdErrors.NoLeader : EtcdErrors.TooManyRequests));
                }
                break;
            case LoopCommandKind.ReadIndex:
                IssueReadIndex();
                break;
            case LoopCommandKind.Step:
                _node.Step(cmd.Message!);
                break;
            case LoopCommandKind.TransferLeader:
                _node.TransferLeadership(cmd.Id);
                break;
            case LoopCommandKind.ReportUnreachable:
                _node.ReportUnreachable(cmd.Id);
                break;
            case LoopCommandKind.ReportSnapshot:
                _node.ReportSnapshot(cmd.Id, cmd.Flag);
                break;
        }
    }

    private void IssueReadIndex()
    {
        var ctx = _ids.Next();
        if (!_reads.Send(ctx, _ticks))
        {
            return;
        }
        if (Leader == 0)
        {
            _reads.Fail(ctx, EtcdErrors.NoLeader);
            Metrics.ReadIndexesFailed(1);
            return;
        }
        AskReadIndex(ctx);
    }

    private void AskReadIndex(ulong ctx)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, ctx);
        if (_node.ReadIndex(bytes) != StepResult.Ok)
        {
            _reads.Fail(ctx, EtcdErrors.NoLeader);
            Metrics.ReadIndexesFailed(1);
        }
    }

    /// <summary>
    /// On the clock: sends a batch of readers that is still collecting (its first reader's request
    /// to the loop may have been lost), asks again for read indexes unanswered for
    /// <see cref="s_readIndexRetry"/>, and fails those older than the request timeout. Without this a
    /// lost request left its readers to time out, and a batch never handed to the loop kept every
    /// later reader waiting for good (ReadIndexBatcher).
    /// </summary>
    private void RetryReads()
    {
        if (_reads.HasCollecting)
        {
            IssueReadIndex();
        }
        // etcd 3.5's counters: a read index that timed out is a slow one (its readers get "request
        // timed out"); asking again before that is not counted.
        var due = _reads.Due(_ticks, _readRetryTicks, _readExpireTicks, EtcdErrors.Timeout, out var expired);
        Metrics.ReadIndexesTimedOut(expired);
        foreach (var ctx in due)
        {
            if (Leader != 0)
            {
                AskReadIndex(ctx);
            }
        }
    }

    /// <summary>
    /// etcd's <c>--initial-election-tick-advance</c>. A member that boots starts its election timer
    /// from zero, so a cluster without a leader (all members restarted, or quorum just regained)
    /// waits a whole randomized election timeout before anyone campaigns. Once the peers are
    /// connected, the timer is fast-forwarded to two ticks before the election timeout: a leader
    /// that is among them reaches this member with a heartbeat within those two ticks (one per
    /// tick) and resets the timer; without one, the member campaigns within 2 to
    /// <c>ElectionTicks + 1</c> ticks instead of <c>ElectionTicks</c> to <c>2 ElectionTicks - 1</c>
    /// (the randomized timeout, Raft thesis §3.4).
    /// etcd fast-forwards when more than one peer is connected. With pre-vote, ketch also does when
    /// the connected peers and this member make a quorum (one peer of a three-member cluster: the
    /// restart that ends a quorum loss): a pre-vote cannot disrupt a leader, because members that
    /// hear from one refuse it (check-quorum's lease, thesis §9.6), so an early campaign at worst
    /// fails.
    /// </summary>
    private void AdvanceElectionTicks()
    {
        if (Leader != 0 || _ticks > _advanceUntilTick)
        {
            // A leader was heard (nothing to speed up), or the peers did not connect in time.
            _advanceUntilTick = 0;
            return;
        }
        int peers = 0, active = 0;
        foreach (var m in Membership.Members)
        {
            if (m.IsLearner || m.Id == MemberId)
            {
                continue;
            }
            peers++;
            if (_transport?.ActiveSince(m.Id) is not null)
            {
                active++;
            }
        }
        var quorum = (peers + 1) / 2 + 1;
        if (active > 1 || (_options.PreVote && active > 0 && active + 1 >= quorum))
        {
            _advanceUntilTick = 0;
            var ticks = _options.ElectionTicks - 2;
            for (var i = 0; i < ticks; i++)
            {
                _node.Tick();
            }
            LogTicksAdvanced(_log, ticks, _options.ElectionTicks, active, peers);
        }
    }

    /// <summary>Leader duties on the clock: revoke expired leases, checkpoint lease TTLs.</summary>
    private void OnLeaderTick()
    {
        if (!IsLeader)
        {
            return;
        }
        foreach (var id in Lessor.TakeExpired(64))
        {
            var data = RaftRequest.Encode(RaftRequestKind.LeaseRevoke, 0, new Ketch.Api.Etcdserverpb.LeaseRevokeRequest { ID = id });
            if (_node.Propose(data) != StepResult.Ok)
            {
                Lessor.RevokeFailed(id);
            }
        }
        var checkpointTicks = (long)(_options.LeaseCheckpointInterval.TotalMilliseconds / _options.HeartbeatIntervalMs);
        if (checkpointTicks > 0 && _ticks - _lastCheckpointTick >= checkpointTicks)
        {
            _lastCheckpointTick = _ticks;
            var cp = new Ketch.Api.Etcdserverpb.LeaseCheckpointRequest();
            foreach (var (id, remaining) in Lessor.Remaining())
            {
                cp.Checkpoints.Add(new Ketch.Api.Etcdserverpb.LeaseCheckpoint { ID = id, RemainingTTL = remaining });
            }
            if (cp.Checkpoints.Count > 0)
            {
                _node.Propose(RaftRequest.Encode(RaftRequestKind.LeaseCheckpoint, 0, cp));
            }
        }
    }

    private async Task HandleReadyAsync(Ready rd)
    {
        if (rd.HardState is { } hardState)
        {
            Term = hardState.Term; // informational (headers, status) before it is durable
        }
        if (rd.SoftState is { } soft)
        {
            OnSoftState(soft);
        }
        Send(rd.Messages);
        // Committed entries already durable here (from earlier Readies) are applied while this
        // Ready's WAL write and fsync run: a write's latency is then one fsync plus apply, not two
        // fsyncs. Entries this Ready itself persists (a follower learning entries and their commit
        // in one message) and anything after a snapshot wait for the write.
        var committed = rd.CommittedEntries;
        var early = 0;
        if (rd.Snapshot is null)
        {
            while (early < committed.Length && committed.Span[early].Index <= _persistedIndex)
            {
                early++;
            }
        }
        var started = _time.GetTimestamp();
        var save = _storage.SaveAsync(rd);
        for (var i = 0; i < early; i++)
        {
            ApplyEntry(committed.Span[i]);
        }
        await save.ConfigureAwait(false);
        if (rd.MustSync)
        {
            Metrics.ObserveFsync(_time.GetElapsedTime(started));
        }
        if (!rd.Entries.IsEmpty)
        {
            _persistedIndex = rd.Entries.Span[^1].Index;
        }
        if (rd.HardState is { } hs)
        {
            Term = hs.Term;
            CommitIndex = hs.Commit;
        }
        Send(rd.MessagesAfterPersist);
        if (rd.Snapshot is { IsEmpty: false } snapshot)
        {
            _persistedIndex = Math.Max(_persistedIndex, snapshot.Metadata.Index);
            ApplySnapshot(snapshot);
        }
        for (var i = early; i < committed.Length; i++)
        {
            ApplyEntry(committed.Span[i]);
        }
        foreach (var rs in rd.ReadStates)
        {
            if (rs.RequestContext.Length == 8)
            {
                _reads.OnReadState(BinaryPrimitives.ReadUInt64BigEndian(rs.RequestContext.Span), rs.Index, AppliedIndex);
            }
        }
        await MaybeSnapshotAsync().ConfigureAwait(false);
    }

    private void OnSoftState(SoftState soft)
    {
        var oldLeader = Leader;
        Leader = soft.Lead;
        var isLeader = soft.RaftState == StateType.Leader;
        if (isLeader && !_wasLeader)
        {
            Lessor.Promote(TimeSpan.FromMilliseconds(_options.ElectionTimeoutMs));
            _lastCheckpointTick = _ticks;
        }
        else if (!isLeader && _wasLeader)
        {
            Lessor.Demote();
        }
        _wasLeader = isLeader;
        if (oldLeader != Leader)
        {
            LogLeader(_log, MemberId, Leader, Term);
            Metrics.LeaderChanged();
            _lastHeartbeat.Clear(); // a new term's heartbeats are timed from their first
            if (oldLeader != 0)
            {
                _reads.FailInflight(EtcdErrors.LeaderChanged, includeCollecting: false);
            }
            if (Leader != 0)
            {
                _leaderKnown.TrySetResult();
            }
            else if (_leaderKnown.Task.IsCompleted)
            {
                _leaderKnown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    private void Send(IReadOnlyList<Message> messages)
    {
        if (messages.Count == 0 || _transport is null)
        {
            return;
        }
        if (messages.Any(m => m.Type == MessageType.Snap))
        {
            foreach (var snap in messages.Where(m => m.Type == MessageType.Snap))
            {
                var kv = Kv;
                _transport.SendSnapshot(SnapshotMessage(snap), s => kv.Snapshot(s));
            }
            messages = [.. messages.Where(m => m.Type != MessageType.Snap)];
        }
        NoteHeartbeats(messages);
        _transport.Send(messages);
    }

    /// <summary>
    /// etcd's heartbeat send failures: a heartbeat to a follower that leaves more than two
    /// heartbeat intervals after the previous one means this leader's loop fell behind (a slow disk
    /// or an overloaded machine), the usual cause of needless elections. Loop thread only.
    /// </summary>
    private void NoteHeartbeats(IReadOnlyList<Message> messages)
    {
        var now = _time.GetTimestamp();
        foreach (var m in messages)
        {
            if (m.Type != MessageType.Heartbeat)
            {
                continue;
            }
            if (_lastHeartbeat.TryGetValue(m.To, out var last)
                && _time.GetElapsedTime(last, now).TotalMilliseconds > 2 * _options.HeartbeatIntervalMs)
            {
                Metrics.HeartbeatLate();
            }
            _lastHeartbeat[m.To] = now;
        }
    }

    /// <summary>Tests only: runs on the loop before each entry is applied (to hold this member's
    /// apply back while its peers apply).</summary>
    internal Action<Entry>? BeforeApplyForTests { get; set; }

    private void ApplyEntry(Entry entry)
    {
        BeforeApplyForTests?.Invoke(entry);
        // One scope per entry: no store batch is written between its writes (KvStore.BeginApply).
        using var scope = Kv.BeginApply();
        switch (entry.Type)
        {
            case EntryType.ConfChange:
            case EntryType.ConfChangeV2:
                ApplyConfChange(entry);
                break;
            default:
                if (entry.Index > Kv.ConsistentIndex)
                {
                    if (RaftRequest.TryDecode(entry.Data, out var request))
                    {
                        var applyStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                        var result = _applier.Apply(entry, request);
                        Metrics.Applied(System.Diagnostics.Stopwatch.GetElapsedTime(applyStarted));
                        if (request.Id != 0 && result is not null)
                        {
                            _waiters.Trigger(request.Id, result);
                        }
                        else if (request.Kind == RaftRequestKind.LeaseRevoke && result is { Error: null } && IsLeader)
                        {
                            // An expired lease revoked (the leader proposes those without a request
                            // id): counted once it is applied, as etcd counts a successful revoke.
                            Lessor.Stats.OnExpired();
                        }
                        else if (request.Kind == RaftRequestKind.LeaseRevoke && result?.Error is { } refused
                            && refused.StatusCode != Grpc.Core.StatusCode.NotFound)
                        {
                            // An expiry revocation refused (a CORRUPT alarm): the lease stays, and
                            // must expire again once writes are accepted. Already gone: nothing to retry.
                            Lessor.RevokeRefused(Ketch.Api.Etcdserverpb.LeaseRevokeRequest.Parser.ParseFrom(request.Payload.Span).ID, s_revokeRetry);
                        }
                    }
                    else
                    {
                        Kv.SetConsistentIndex(entry.Index, entry.Term);
                    }
                }
                break;
        }
        AppliedIndex = entry.Index;
    }

    public async ValueTask DisposeAsync()
    {
        if (_ticker is not null)
        {
            await _ticker.DisposeAsync().ConfigureAwait(false);
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _commands.Writer.TryComplete();
        if (_run is not null)
        {
            await _run.ConfigureAwait(false);
        }
        await _storage.DisposeAsync().ConfigureAwait(false);
        Kv.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Use default bcrypt-cost {Default} instead of the invalid value {Cost}")]
    private static partial void LogBcryptCost(ILogger log, int @default, int cost);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "peer connections up ({Active} of {Peers} voters): fast-forwarded {Ticks} election ticks (election ticks {ElectionTicks})")]
    private static partial void LogTicksAdvanced(ILogger log, int ticks, int electionTicks, int active, int peers);

    [LoggerMessage(Level = LogLevel.Critical, Message = "the Raft loop failed; the member stops serving")]
    private static partial void LogLoopFailed(ILogger log, Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "member {MemberId:x16}: leader is now {Leader:x16} at term {Term}")]
    private static partial void LogLeader(ILogger log, ulong memberId, ulong leader, ulong term);
}
