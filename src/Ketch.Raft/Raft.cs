using Ketch.Raft.Storage;
using Ketch.Raft.Tracker;

namespace Ketch.Raft;

/// <summary>
/// The Raft state machine of one member: a pure function of the messages stepped into it and
/// the ticks it is given. It never blocks, sleeps or does I/O; what it wants done (persist,
/// send, apply) accumulates until <see cref="RawNode"/> hands it out in a <see cref="Ready"/>.
/// This file holds the term logic shared by every role; each role's own handling lives in
/// its partial file (Raft.Leader.cs, Raft.Candidate.cs, Raft.Follower.cs).
/// </summary>
internal sealed partial class Raft
{
    /// <summary>The context of a vote request that comes from a leadership transfer: such a
    /// request overrides leader stickiness (thesis §3.10).</summary>
    internal static readonly byte[] CampaignTransferContext = "CampaignTransfer"u8.ToArray();

    private readonly IRaftLogger _logger;
    private readonly SplitMix64 _random;
    private readonly int _electionTimeout;
    private readonly int _heartbeatTimeout;
    private readonly long _maxMsgSize;
    private readonly long _maxUncommittedSize;
    private readonly bool _checkQuorum;
    private readonly bool _preVote;
    private readonly bool _disableProposalForwarding;
    private readonly PlantedBug _plantedBug; // test-only hook, PlantedBug.None in production

    // Messages that may leave at once, and messages that may leave only after this Ready's
    // entries and hard state are durable (see Ready and docs/raft.md).
    private List<Message> _msgs = [];
    private List<Message> _msgsAfterPersist = [];

    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private long _uncommittedSize;

    public Raft(RaftConfig config)
    {
        config.Validate();
        Id = config.Id;
        _logger = config.Logger;
        _random = new SplitMix64(config.RandomSeed ^ (config.Id * 0x9E3779B97F4A7C15UL));
        _electionTimeout = config.ElectionTicks;
        _heartbeatTimeout = config.HeartbeatTicks;
        _maxMsgSize = config.MaxSizePerMsgBytes;
        _maxUncommittedSize = config.MaxUncommittedEntriesBytes;
        _checkQuorum = config.CheckQuorum;
        _preVote = config.PreVote;
        _disableProposalForwarding = config.DisableProposalForwarding;
        _readOnly = new ReadOnly(config.ReadOnlyOption);
        _plantedBug = config.PlantedBug;
        Log = new RaftLog(config.Storage, config.MaxCommittedSizePerReadyBytes);
        Trk = new ProgressTracker(config.MaxInflightMsgs, config.MaxInflightBytes);

        var initial = config.Storage.InitialState();
        Trk.SetConfiguration(initial.ConfState, Log.LastIndex() + 1);
        IsLearner = Trk.Progress.TryGetValue(Id, out var self) && self.IsLearner;
        if (!initial.HardState.IsEmpty)
        {
            LoadState(initial.HardState);
        }
        if (config.Applied > 0)
        {
            Log.AppliedTo(config.Applied);
        }
        BecomeFollower(Term, 0);
        Info($"newRaft {Id} [peers: {Trk.Voters.Describe()}, term: {Term}, commit: {Log.Committed}, applied: {Log.Applied}, lastindex: {Log.LastIndex()}, lastterm: {Log.LastTerm()}]");
    }

    public ulong Id { get; }

    public ulong Term { get; private set; }

    public ulong Vote { get; private set; }

    public ulong Lead { get; private set; }

    public StateType State { get; private set; }

    public bool IsLearner { get; private set; }

    public RaftLog Log { get; }

    public ProgressTracker Trk { get; }

    /// <summary>The member leadership is being handed to, or 0.</summary>
    public ulong LeadTransferee { get; private set; }

    /// <summary>The index of the latest configuration change proposed by this leader; no new
    /// one is accepted until it is applied (one change at a time, thesis §4.1).</summary>
    public ulong PendingConfIndex { get; private set; }

    public SoftState SoftState => new(Lead, State);

    public HardState HardState => new(Term, Vote, Log.Committed);

    public long UncommittedSize => _uncommittedSize;

    /// <summary>Hands out the queued messages: (send now, send after persisting).</summary>
    public (IReadOnlyList<Message> Now, IReadOnlyList<Message> AfterPersist) TakeMessages() =>
        (Take(ref _msgs), Take(ref _msgsAfterPersist));

    private static IReadOnlyList<Message> Take(ref List<Message> list)
    {
        if (list.Count == 0)
        {
            return [];
        }
        var taken = list;
        list = new List<Message>(Math.Min(taken.Count, 16));
        return taken;
    }

    public bool HasMessages => _msgs.Count > 0 || _msgsAfterPersist.Count > 0;

    /// <summary>Whether this member may become leader: it is a voter and not busy installing
    /// a snapshot.</summary>
    public bool Promotable =>
        Trk.Progress.TryGetValue(Id, out var pr) && !pr.IsLearner && !Log.HasPendingSnapshot;

    /// <summary>Advances logical time by one tick.</summary>
    public void Tick()
    {
        if (State == StateType.Leader)
        {
            TickHeartbeat();
        }
        else
        {
            TickElection();
        }
    }

    /// <summary>Steps one message (from a peer, or a local one) through the state machine.</summary>
    public StepResult Step(Message m)
    {
        if (m.Term == 0)
        {
            // Local message (or a proposal / read index forwarded as one).
        }
        else if (m.Term > Term)
        {
            if (m.Type is MessageType.Vote or MessageType.PreVote)
            {
                var force = m.Context.Span.SequenceEqual(CampaignTransferContext);
                var inLease = _checkQuorum && Lead != 0 && _electionElapsed < _electionTimeout;
                if (!force && inLease)
                {
                    // Leader stickiness (thesis §4.2.3): while we hear from a leader, a vote
                    // request from a member that lost contact must not disrupt the group.
                    Info($"{Id} [logterm: {Log.LastTerm()}, index: {Log.LastIndex()}, vote: {Vote}] ignored {m.Type.Name()} from {m.From} [logterm: {m.LogTerm}, index: {m.Index}] at term {Term}: lease is not expired (remaining ticks: {_electionTimeout - _electionElapsed})");
                    return StepResult.Ok;
                }
            }
            if (m.Type == MessageType.PreVote)
            {
                // A pre-vote never changes our term.
            }
            else if (m.Type == MessageType.PreVoteResp && !m.Reject)
            {
                // Granted pre-votes carry the term we would campaign in; the term moves only
                // when the pre-election is won.
            }
            else
            {
                Info($"{Id} [term: {Term}] received a {m.Type.Name()} message with higher term from {m.From} [term: {m.Term}]");
                var lead = m.Type is MessageType.App or MessageType.Heartbeat or MessageType.Snap ? m.From : 0;
                BecomeFollower(m.Term, lead);
            }
        }
        else if (m.Term < Term)
        {
            if ((_checkQuorum || _preVote || !Promotable) && m.Type is MessageType.Heartbeat or MessageType.App)
            {
                // A stale leader (for example one partitioned away) learns the current term
                // from this answer and steps down; without it, with check-quorum or pre-vote,
                // the group could wait forever on a leader that cannot win nor lose.
                // A member that cannot campaign (a learner, or a newcomer still waiting for the
                // snapshot that gives it its configuration) must answer in every setting: the
                // group otherwise counts on the member with the higher term to campaign and so
                // raise everyone's term, which it never does, and it would ignore the leader
                // for good (found by the simulator: a newcomer voted in a removed member's
                // election, then ignored the real leader; etcd-io/raft behaves the same).
                Send(new Message { From = Id, To = m.From, Type = MessageType.AppResp, Term = Term });
            }
            else if (m.Type == MessageType.PreVote)
            {
                Send(new Message { From = Id, To = m.From, Type = MessageType.PreVoteResp, Term = Term, Reject = true });
            }
            else if (m.Type == MessageType.Vote)
            {
                // Raft figure 2 (RequestVote: "reply false if term < currentTerm", with our term
                // for the candidate to update itself). etcd-io/raft drops these and counts on our
                // own campaigns to spread our term, but a member lagging behind membership
                // changes campaigns only to the voters of its stale configuration: a candidate
                // added since then never learns our term, stays below it for good, and cannot get
                // our vote (found by the simulator: a 2-voter group whose stale member's term had
                // run ahead deadlocked).
                Send(new Message { From = Id, To = m.From, Type = MessageType.VoteResp, Term = Term, Reject = true });
            }
            else
            {
                Debug($"{Id} [term: {Term}] ignored a {m.Type.Name()} message with lower term from {m.From} [term: {m.Term}]");
            }
            return StepResult.Ok;
        }

        switch (m.Type)
        {
            case MessageType.Hup:
                Hup(transfer: false);
                return StepResult.Ok;
            case MessageType.Vote or MessageType.PreVote:
                HandleVoteRequest(m);
                return StepResult.Ok;
            default:
                return State switch
                {
                    StateType.Leader => StepLeader(m),
                    StateType.Candidate or StateType.PreCandidate => StepCandidate(m),
                    _ => StepFollower(m),
                };
        }
    }

    /// <summary>
    /// Decides a vote request (Raft §5.2, §5.4.1): grant if we have not voted for someone else
    /// in this term (or, for a pre-vote, the candidate's term is ahead of ours) and the
    /// candidate's log is at least as up to date as ours.
    /// </summary>
    private void HandleVoteRequest(Message m)
    {
        var canVote = Vote == m.From
            || (Vote == 0 && Lead == 0)
            || (m.Type == MessageType.PreVote && m.Term > Term)
            || _plantedBug == PlantedBug.DoubleVote; // test-only hook: ignores the vote already cast
        var respType = m.Type.VoteResponseFor();
        if (canVote && Log.IsUpToDate(m.Index, m.LogTerm))
        {
            Info($"{Id} [logterm: {Log.LastTerm()}, index: {Log.LastIndex()}, vote: {Vote}] cast {m.Type.Name()} for {m.From} [logterm: {m.LogTerm}, index: {m.Index}] at term {Term}");
            // The response carries the request's term: for a pre-vote that is the term the
            // candidate will use, which it must recognise as an answer to its request.
            Send(new Message { From = Id, To = m.From, Type = respType, Term = m.Term });
            if (m.Type == MessageType.Vote)
            {
                _electionElapsed = 0;
                Vote = m.From;
            }
        }
        else
        {
            Info($"{Id} [logterm: {Log.LastTerm()}, index: {Log.LastIndex()}, vote: {Vote}] rejected {m.Type.Name()} from {m.From} [logterm: {m.LogTerm}, index: {m.Index}] at term {Term}");
            Send(new Message { From = Id, To = m.From, Type = respType, Term = Term, Reject = true });
        }
    }

    /// <summary>Queues a message. The term is the caller's to set (0 for forwarded proposals).
    /// Messages that reveal state this member may not yet have persisted (its vote, its term,
    /// the entries it acknowledges) wait until after persistence; the leader's own replication
    /// traffic may leave at once, in parallel with its disk write (Raft thesis §10.2.1).</summary>
    private void Send(Message m)
    {
        if (m.From == 0)
        {
            m = Retarget(m, m.To, Id);
        }
        switch (m.Type)
        {
            case MessageType.Vote or MessageType.VoteResp or MessageType.PreVote or MessageType.PreVoteResp:
                if (m.Term == 0)
                {
                    throw new InvalidOperationException($"term must be set when sending {m.Type.Name()}");
                }
                break;
            case MessageType.Prop or MessageType.ReadIndex or MessageType.TransferLeader:
                if (m.Term != 0)
                {
                    throw new InvalidOperationException($"term must not be set when sending {m.Type.Name()} (was {m.Term})");
                }
                break;
            default:
                if (m.Term == 0)
                {
                    throw new InvalidOperationException($"term must be set when sending {m.Type.Name()}");
                }
                break;
        }
        if (SendsBeforePersist(m.Type))
        {
            _msgs.Add(m);
        }
        else
        {
            _msgsAfterPersist.Add(m);
        }
    }

    private static bool SendsBeforePersist(MessageType type) => type is MessageType.App or MessageType.Snap
        or MessageType.Heartbeat or MessageType.TimeoutNow or MessageType.ReadIndexResp
        or MessageType.Prop or MessageType.ReadIndex or MessageType.TransferLeader or MessageType.PreVote;

    private static Message Retarget(Message m, ulong to, ulong from) => new()
    {
        Type = m.Type,
        To = to,
        From = from,
        Term = m.Term,
        LogTerm = m.LogTerm,
        Index = m.Index,
        Entries = m.Entries,
        Commit = m.Commit,
        Snapshot = m.Snapshot,
        Reject = m.Reject,
        RejectHint = m.RejectHint,
        Context = m.Context,
    };

    private void LoadState(HardState state)
    {
        if (state.Commit < Log.Committed || state.Commit > Log.LastIndex())
        {
            throw new InvalidOperationException(
                $"{Id} state.commit {state.Commit} is out of range [{Log.Committed}, {Log.LastIndex()}]");
        }
        Log.CommitTo(state.Commit);
        Term = state.Term;
        Vote = state.Vote;
    }

    private void TickElection()
    {
        _electionElapsed++;
        if (Promotable && _electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            Step(new Message { From = Id, Type = MessageType.Hup });
        }
    }

    private void TickHeartbeat()
    {
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_electionElapsed >= _electionTimeout)
        {
            _electionElapsed = 0;
            if (_checkQuorum)
            {
                Step(new Message { From = Id, Type = MessageType.CheckQuorum });
            }
            // A transfer that has not finished within an election timeout is abandoned
            // (thesis §3.10) so the leader accepts proposals again.
            if (State == StateType.Leader && LeadTransferee != 0)
            {
                AbortLeaderTransfer();
            }
            // The automatic leave of a joint configuration is proposed when entries are applied
            // (OnApplied), but a leadership transfer in progress drops it. If the transfer then
            // fails and the group is idle, nothing is applied any more and the group would stay
            // joint for good (found by the simulator; etcd-io/raft only retries "on the next
            // advance" too). So a leader retries once per election timeout: a no-op unless the
            // leave is due and not yet proposed (PendingConfIndex moves past Applied once it is).
            if (State == StateType.Leader)
            {
                OnApplied();
            }
        }
        if (State != StateType.Leader)
        {
            return;
        }
        if (_heartbeatElapsed >= _heartbeatTimeout)
        {
            _heartbeatElapsed = 0;
            Step(new Message { From = Id, Type = MessageType.Beat });
        }
    }

    /// <summary>Whether the election timeout has passed; the randomized timeout is drawn from
    /// [electionTimeout, 2 × electionTimeout) so split votes resolve quickly (Raft §5.2).</summary>
    internal bool PastElectionTimeout => _electionElapsed >= _randomizedElectionTimeout;

    internal int RandomizedElectionTimeout => _randomizedElectionTimeout;

    private void ResetRandomizedElectionTimeout() =>
        _randomizedElectionTimeout = _electionTimeout + _random.NextInt(_electionTimeout);

    /// <summary>Resets per-term state when the term or role changes.</summary>
    private void Reset(ulong term)
    {
        if (Term != term)
        {
            Term = term;
            Vote = 0;
        }
        Lead = 0;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        ResetRandomizedElectionTimeout();
        AbortLeaderTransfer();
        Trk.ResetVotes();
        var last = Log.LastIndex();
        // This member's own match is what it holds durably: unstable entries are not counted
        // until Advance confirms them, so a leader never commits on the strength of entries
        // that a crash could take from it.
        var stableLast = Log.Unstable.Count > 0 ? Log.Unstable.Offset - 1 : last;
        foreach (var id in Trk.IdSpan)
        {
            Trk.Progress[id].Reset(id == Id ? Math.Min(stableLast, last) : 0, last + 1);
        }
        PendingConfIndex = 0;
        _uncommittedSize = 0;
        ResetReads();
    }

    internal void BecomeFollower(ulong term, ulong lead)
    {
        Reset(term);
        Lead = lead;
        State = StateType.Follower;
        Info($"{Id} became follower at term {Term}");
    }

    private void BecomeCandidate()
    {
        if (State == StateType.Leader)
        {
            throw new InvalidOperationException("invalid transition [leader -> candidate]");
        }
        Reset(Term + 1);
        Vote = Id;
        State = StateType.Candidate;
        Info($"{Id} became candidate at term {Term}");
    }

    private void BecomePreCandidate()
    {
        if (State == StateType.Leader)
        {
            throw new InvalidOperationException("invalid transition [leader -> pre-candidate]");
        }
        // A pre-candidate keeps its term and vote: the pre-election changes nothing durable.
        Trk.ResetVotes();
        Lead = 0;
        State = StateType.PreCandidate;
        Info($"{Id} became pre-candidate at term {Term}");
    }

    private void AbortLeaderTransfer() => LeadTransferee = 0;

    private void Info(string message)
    {
        if (_logger.IsEnabled(RaftLogLevel.Info))
        {
            _logger.Log(RaftLogLevel.Info, message);
        }
    }

    private void Debug(string message)
    {
        if (_logger.IsEnabled(RaftLogLevel.Debug))
        {
            _logger.Log(RaftLogLevel.Debug, message);
        }
    }

    private void Warn(string message)
    {
        if (_logger.IsEnabled(RaftLogLevel.Warning))
        {
            _logger.Log(RaftLogLevel.Warning, message);
        }
    }
}
