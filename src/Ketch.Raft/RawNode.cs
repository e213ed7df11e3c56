namespace Ketch.Raft;

/// <summary>
/// The application's handle on one Raft member, with no threads of its own: the application
/// calls <see cref="Tick"/> on a clock, steps in messages from peers, proposes, and loops
/// <c>while (HasReady()) { var rd = Ready(); ...persist, send, apply...; Advance(); }</c>
/// following the contract documented on <see cref="Ketch.Raft.Ready"/>.
/// </summary>
public sealed class RawNode
{
    private readonly Raft _raft;
    private SoftState _prevSoftState;
    private HardState _prevHardState;
    private Ready? _outstanding;

    /// <summary>Creates a member from its configuration and storage. A member restarting
    /// reads its hard state, configuration and log from <see cref="RaftConfig.Storage"/>.</summary>
    public RawNode(RaftConfig config)
    {
        _raft = new Raft(config);
        _prevSoftState = _raft.SoftState;
        _prevHardState = _raft.HardState;
    }

    internal Raft Raft => _raft;

    /// <summary>This member's id.</summary>
    public ulong Id => _raft.Id;

    /// <summary>Advances logical time by one tick (elections, heartbeats, check-quorum).</summary>
    public void Tick() => _raft.Tick();

    /// <summary>Starts an election now, without waiting for the timeout.</summary>
    public void Campaign() => _raft.Step(new Message { Type = MessageType.Hup, From = Id });

    /// <summary>Proposes one entry of application data to be appended to the log.</summary>
    public StepResult Propose(ReadOnlyMemory<byte> data) =>
        Propose(new ReadOnlySpan<ReadOnlyMemory<byte>>(in data), EntryType.Normal);

    /// <summary>Proposes several entries at once (one message, one append).</summary>
    public StepResult Propose(ReadOnlySpan<ReadOnlyMemory<byte>> data) => Propose(data, EntryType.Normal);

    /// <summary>Proposes a single-operation membership change. It takes effect on each member
    /// when the application applies the committed entry and calls <see cref="ApplyConfChange(ConfChange)"/>.
    /// While another change is unapplied, or the group is joint, the leader replaces it by an
    /// empty entry (it is refused, not lost silently: it never applies).</summary>
    public StepResult ProposeConfChange(ConfChange cc)
    {
        ArgumentNullException.ThrowIfNull(cc);
        ReadOnlyMemory<byte> data = Encoding.RaftEncoding.Encode(cc);
        return Propose(new ReadOnlySpan<ReadOnlyMemory<byte>>(in data), EntryType.ConfChange);
    }

    /// <summary>Proposes a membership change of any size; more than one voter change goes
    /// through joint consensus. An empty change leaves a joint configuration.</summary>
    public StepResult ProposeConfChange(ConfChangeV2 cc)
    {
        ArgumentNullException.ThrowIfNull(cc);
        ReadOnlyMemory<byte> data = Encoding.RaftEncoding.Encode(cc);
        return Propose(new ReadOnlySpan<ReadOnlyMemory<byte>>(in data), EntryType.ConfChangeV2);
    }

    /// <summary>Switches this member to the configuration a committed change leads to; call it
    /// when applying a conf-change entry. Returns the new configuration, to be saved with the
    /// applied state (and in the next snapshot).</summary>
    /// <exception cref="ConfChangeException">The change does not apply to the current configuration.</exception>
    public ConfState ApplyConfChange(ConfChange cc) => ApplyConfChange(cc.ToV2());

    /// <inheritdoc cref="ApplyConfChange(ConfChange)"/>
    public ConfState ApplyConfChange(ConfChangeV2 cc)
    {
        ArgumentNullException.ThrowIfNull(cc);
        return _raft.ApplyConfChange(cc);
    }

    /// <summary>Asks the leader to hand leadership to <paramref name="transferee"/> (thesis §3.10).
    /// While the transfer runs (at most an election timeout) the leader drops proposals.</summary>
    public StepResult TransferLeadership(ulong transferee) =>
        _raft.Step(new Message { Type = MessageType.TransferLeader, From = transferee });

    /// <summary>Requests a read index for a linearizable read (thesis §6.4). The answer comes back
    /// as a <see cref="ReadState"/> in a later Ready, carrying <paramref name="requestContext"/>,
    /// which must be unique among pending reads. A read is never answered by a member that lost
    /// leadership meanwhile: the caller retries after a timeout.</summary>
    public StepResult ReadIndex(ReadOnlyMemory<byte> requestContext) =>
        _raft.Step(new Message { Type = MessageType.ReadIndex, From = Id, Context = requestContext });

    private StepResult Propose(ReadOnlySpan<ReadOnlyMemory<byte>> data, EntryType type)
    {
        if (data.IsEmpty)
        {
            throw new ArgumentException("nothing to propose", nameof(data));
        }
        if (_raft.State == StateType.Leader)
        {
            return _raft.ProposeAsLeader(data, type);
        }
        var entries = new Entry[data.Length];
        for (var i = 0; i < data.Length; i++)
        {
            entries[i] = new Entry(0, 0, type, data[i]);
        }
        return _raft.Step(new Message { Type = MessageType.Prop, From = Id, Entries = entries });
    }

    /// <summary>Steps a message received from a peer. Local-only message types are refused,
    /// as are responses from members this node does not know.</summary>
    public StepResult Step(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Type.IsLocal())
        {
            return StepResult.LocalMessage;
        }
        if (message.Type.IsResponse() && !_raft.Trk.Progress.ContainsKey(message.From))
        {
            return StepResult.PeerNotFound;
        }
        return _raft.Step(message);
    }

    /// <summary>Whether <see cref="Ready"/> has anything to hand out.</summary>
    public bool HasReady()
    {
        if (!_raft.SoftState.Equals(_prevSoftState))
        {
            return true;
        }
        var hs = _raft.HardState;
        if (!hs.IsEmpty && !hs.Equals(_prevHardState))
        {
            return true;
        }
        var log = _raft.Log;
        return log.HasPendingSnapshot || log.Unstable.Count > 0 || _raft.HasMessages || log.HasNextCommittedEntries()
            || _raft.ReadStateCount > 0;
    }

    /// <summary>
    /// Hands out what must be persisted, sent and applied. The caller must call
    /// <see cref="Advance"/> once it has done so, before asking for the next Ready; peers may
    /// be stepped in between.
    /// </summary>
    public Ready Ready()
    {
        if (_outstanding is not null)
        {
            throw new InvalidOperationException("the previous Ready was not advanced: call Advance() first");
        }
        var log = _raft.Log;
        var soft = _raft.SoftState;
        var hard = _raft.HardState;
        var entries = log.Unstable.Entries;
        var committed = log.NextCommittedEntries();
        var (now, after) = _raft.TakeMessages();
        var rd = new Ready
        {
            SoftState = soft.Equals(_prevSoftState) ? null : soft,
            HardState = hard.IsEmpty || hard.Equals(_prevHardState) ? null : hard,
            Entries = entries,
            Snapshot = log.Unstable.Snapshot,
            CommittedEntries = committed,
            Messages = now,
            MessagesAfterPersist = after,
            ReadStates = _raft.TakeReadStates(),
            MustSync = !entries.IsEmpty || hard.Term != _prevHardState.Term || hard.Vote != _prevHardState.Vote
                || log.Unstable.Snapshot is not null,
        };
        _prevSoftState = soft;
        if (!hard.IsEmpty)
        {
            _prevHardState = hard;
        }
        if (!committed.IsEmpty)
        {
            log.AcceptApplying(committed.Span[^1].Index);
        }
        _outstanding = rd;
        return rd;
    }

    /// <summary>
    /// Tells the state machine the last <see cref="Ready"/> was fully handled: its entries and
    /// snapshot are durable and its committed entries applied.
    /// </summary>
    public void Advance()
    {
        var rd = _outstanding ?? throw new InvalidOperationException("Advance() without an outstanding Ready");
        _outstanding = null;
        if (rd.Snapshot is { } snap)
        {
            _raft.Log.StableSnapTo(snap.Metadata.Index);
            _raft.Log.AppliedTo(snap.Metadata.Index);
        }
        if (!rd.Entries.IsEmpty)
        {
            var last = rd.Entries.Span[^1];
            _raft.OnEntriesStable(last.Index, last.Term);
        }
        if (!rd.CommittedEntries.IsEmpty)
        {
            var span = rd.CommittedEntries.Span;
            _raft.Log.AppliedTo(span[^1].Index);
            _raft.ReduceUncommittedSize(LogLimits.PayloadBytes(span));
            _raft.OnApplied();
        }
    }

    /// <summary>Tells the leader that the last message to <paramref name="id"/> could not be sent.</summary>
    public void ReportUnreachable(ulong id) => _raft.ReportUnreachable(id);

    /// <summary>Tells the leader whether sending a snapshot to <paramref name="id"/> succeeded.</summary>
    public void ReportSnapshot(ulong id, bool failed) => _raft.ReportSnapshot(id, failed);

    /// <summary>The member's current state.</summary>
    public Status Status() => new()
    {
        Id = _raft.Id,
        HardState = _raft.HardState,
        SoftState = _raft.SoftState,
        Applied = _raft.Log.Applied,
        LeadTransferee = _raft.LeadTransferee,
        Config = _raft.Trk.ConfState,
        Progress = _raft.State == StateType.Leader
            ? Ketch.Raft.Status.DescribeProgress(_raft.Trk)
            : new Dictionary<ulong, string>(),
    };
}
