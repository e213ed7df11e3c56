namespace Ketch.Raft;

/// <summary>The follower: forwarding proposals, accepting appends, heartbeats and snapshots.</summary>
internal sealed partial class Raft
{
    private StepResult StepFollower(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Prop:
                if (Lead == 0)
                {
                    Info($"{Id} no leader at term {Term}; dropping proposal");
                    return StepResult.ProposalDropped;
                }
                if (_disableProposalForwarding)
                {
                    Info($"{Id} not forwarding to leader {Lead} at term {Term}; dropping proposal");
                    return StepResult.ProposalDropped;
                }
                Send(new Message { Type = MessageType.Prop, To = Lead, From = m.From, Entries = m.Entries });
                break;
            case MessageType.App:
                _electionElapsed = 0;
                Lead = m.From;
                HandleAppendEntries(m);
                break;
            case MessageType.Heartbeat:
                _electionElapsed = 0;
                Lead = m.From;
                HandleHeartbeat(m);
                break;
            case MessageType.Snap:
                _electionElapsed = 0;
                Lead = m.From;
                HandleSnapshot(m);
                break;
            case MessageType.TransferLeader:
                if (Lead == 0)
                {
                    Info($"{Id} no leader at term {Term}; dropping leader transfer msg");
                    return StepResult.ProposalDropped;
                }
                Send(new Message { Type = MessageType.TransferLeader, To = Lead, From = m.From });
                break;
            case MessageType.ReadIndex:
                if (Lead == 0)
                {
                    Info($"{Id} no leader at term {Term}; dropping index reading msg");
                    return StepResult.ProposalDropped;
                }
                Send(new Message { Type = MessageType.ReadIndex, To = Lead, From = m.From, Context = m.Context });
                break;
            case MessageType.ReadIndexResp:
                _readStates.Add(new ReadState(m.Index, m.Context));
                break;
            case MessageType.TimeoutNow:
                // The leader hands us leadership: campaign at once, skipping pre-vote, with a
                // request that overrides the other members' leader stickiness (thesis §3.10).
                Info($"{Id} [term {Term}] received MsgTimeoutNow from {m.From} and starts an election to get leadership");
                Hup(transfer: true);
                break;
        }
        return StepResult.Ok;
    }

    /// <summary>The receiver side of AppendEntries (Raft §5.3, figure 2).</summary>
    private void HandleAppendEntries(Message m)
    {
        if (m.Index < Log.Committed)
        {
            // Everything up to our commit index is settled; tell the leader where we are.
            Send(new Message { From = Id, To = m.From, Type = MessageType.AppResp, Term = Term, Index = Log.Committed });
            return;
        }
        if (Log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries) is { } lastNew)
        {
            Send(new Message { From = Id, To = m.From, Type = MessageType.AppResp, Term = Term, Index = lastNew });
            return;
        }
        // Consistency check failed. Hint the largest index at or below the probe whose term is
        // not above the leader's term there: every entry past it must differ from the leader's
        // log, so the leader can skip them all in one round trip (fast backtracking).
        var hintIndex = Math.Min(m.Index, Log.LastIndex());
        var (index, term) = Log.FindConflictByTerm(hintIndex, m.LogTerm);
        Debug($"{Id} [logterm: {Log.TermOrZero(m.Index)}, index: {m.Index}] rejected MsgApp [logterm: {m.LogTerm}, index: {m.Index}] from {m.From}");
        Send(new Message
        {
            From = Id,
            To = m.From,
            Type = MessageType.AppResp,
            Term = Term,
            Index = m.Index,
            Reject = true,
            RejectHint = index,
            LogTerm = term,
        });
    }

    private void HandleHeartbeat(Message m)
    {
        Log.CommitTo(m.Commit);
        Send(new Message { From = Id, To = m.From, Type = MessageType.HeartbeatResp, Term = Term, Context = m.Context });
    }

    private void HandleSnapshot(Message m)
    {
        var s = m.Snapshot ?? throw new InvalidOperationException($"{Id} received MsgSnap without a snapshot");
        if (Restore(s))
        {
            Info($"{Id} [commit: {Log.Committed}] restored snapshot [index: {s.Metadata.Index}, term: {s.Metadata.Term}]");
            Send(new Message { From = Id, To = m.From, Type = MessageType.AppResp, Term = Term, Index = Log.LastIndex() });
        }
        else
        {
            Info($"{Id} [commit: {Log.Committed}] ignored snapshot [index: {s.Metadata.Index}, term: {s.Metadata.Term}]");
            Send(new Message { From = Id, To = m.From, Type = MessageType.AppResp, Term = Term, Index = Log.Committed });
        }
    }

    /// <summary>Installs a snapshot unless it tells us nothing new. Returns whether the log was
    /// replaced (Raft §7).</summary>
    private bool Restore(Snapshot s)
    {
        var meta = s.Metadata;
        if (meta.Index <= Log.Committed)
        {
            return false;
        }
        if (State != StateType.Follower)
        {
            // Defence in depth: only a follower may install a snapshot. Moving to a new term
            // makes sure no leader of the current term is confused by what follows.
            Warn($"{Id} attempted to restore snapshot as leader; should never happen");
            BecomeFollower(Term + 1, 0);
            return false;
        }
        var cs = meta.ConfState;
        if (!cs.Voters.Contains(Id) && !cs.Learners.Contains(Id) && !cs.VotersOutgoing.Contains(Id))
        {
            // A snapshot whose configuration does not contain us is not for us (it may be
            // stale, sent while we were being removed).
            Warn($"{Id} attempted to restore snapshot but it is not in the ConfState {cs.Describe()}; should never happen");
            return false;
        }
        if (Log.MatchTerm(meta.Index, meta.Term))
        {
            // We already hold the snapshot's last entry: just fast-forward the commit index.
            Info($"{Id} [commit: {Log.Committed}, lastindex: {Log.LastIndex()}, lastterm: {Log.LastTerm()}] fast-forwarded commit to snapshot [index: {meta.Index}, term: {meta.Term}]");
            Log.CommitTo(meta.Index);
            return false;
        }
        Log.Restore(s);
        Trk.SetConfiguration(cs, Log.LastIndex() + 1);
        IsLearner = Trk.Progress.TryGetValue(Id, out var self) && self.IsLearner;
        return true;
    }
}
