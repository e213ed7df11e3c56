using Ketch.Raft.Quorum;

namespace Ketch.Raft;

/// <summary>Elections: campaigning, counting votes, and the (pre-)candidate's message handling.</summary>
internal sealed partial class Raft
{
    private void Hup(bool transfer)
    {
        if (State == StateType.Leader)
        {
            Debug($"{Id} ignoring MsgHup because already leader");
            return;
        }
        if (!Promotable)
        {
            Warn($"{Id} is unpromotable and can not campaign");
            return;
        }
        if (HasUnappliedConfChanges())
        {
            // A configuration change that is committed but not applied may change who votes;
            // campaigning under the old configuration could elect a leader without a quorum
            // of the new one.
            Warn($"{Id} cannot campaign at term {Term} since there are still pending configuration changes to apply");
            return;
        }
        Info($"{Id} is starting a new election at term {Term}");
        Campaign(transfer ? CampaignType.Transfer : _preVote ? CampaignType.PreElection : CampaignType.Election);
    }

    private bool HasUnappliedConfChanges()
    {
        if (Log.Applied >= Log.Committed)
        {
            return false;
        }
        // Scan committed-but-unapplied entries in bounded pages.
        var lo = Log.Applied + 1;
        var hi = Log.Committed + 1;
        while (lo < hi)
        {
            var page = Log.Slice(lo, hi, 1024 * 1024);
            if (!page.IsOk)
            {
                throw new InvalidOperationException($"error scanning unapplied entries [{lo},{hi}): {page.Error}");
            }
            foreach (var e in page.Value.Span)
            {
                if (e.Type != EntryType.Normal)
                {
                    return true;
                }
            }
            lo += (ulong)page.Value.Length;
        }
        return false;
    }

    /// <summary>Starts a (pre-)election: votes for itself and asks every other voter.</summary>
    internal void Campaign(CampaignType type)
    {
        if (!Promotable)
        {
            Warn($"{Id} is unpromotable; campaign() should have been called");
            return;
        }
        ulong term;
        MessageType voteMsg;
        if (type == CampaignType.PreElection)
        {
            BecomePreCandidate();
            voteMsg = MessageType.PreVote;
            // The pre-vote asks about the term we would move to, without moving to it.
            term = Term + 1;
        }
        else
        {
            BecomeCandidate();
            voteMsg = MessageType.Vote;
            term = Term;
        }
        var (_, _, result) = Poll(Id, voteMsg.VoteResponseFor(), true);
        if (result == VoteResult.Won)
        {
            // A single-voter group wins at once.
            if (type == CampaignType.PreElection)
            {
                Campaign(CampaignType.Election);
            }
            else
            {
                BecomeLeader();
            }
            return;
        }
        var lastIndex = Log.LastIndex();
        var lastTerm = Log.LastTerm();
        var context = type == CampaignType.Transfer ? CampaignTransferContext : ReadOnlyMemory<byte>.Empty;
        foreach (var id in Trk.Voters.Ids)
        {
            if (id == Id)
            {
                continue;
            }
            Info($"{Id} [logterm: {lastTerm}, index: {lastIndex}] sent {voteMsg.Name()} request to {id} at term {Term}");
            Send(new Message
            {
                From = Id,
                To = id,
                Type = voteMsg,
                Term = term,
                Index = lastIndex,
                LogTerm = lastTerm,
                Context = context,
            });
        }
    }

    private (int Granted, int Rejected, VoteResult Result) Poll(ulong id, MessageType type, bool granted)
    {
        if (granted)
        {
            Info($"{Id} received {type.Name()} from {id} at term {Term}");
        }
        else
        {
            Info($"{Id} received {type.Name()} rejection from {id} at term {Term}");
        }
        Trk.RecordVote(id, granted);
        return Trk.TallyVotes();
    }

    private StepResult StepCandidate(Message m)
    {
        // Only the answers to our own kind of request count; a pre-candidate ignores stray
        // VoteResp messages and a candidate stray PreVoteResp messages.
        var myVoteResp = State == StateType.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
        switch (m.Type)
        {
            case MessageType.Prop:
                Info($"{Id} no leader at term {Term}; dropping proposal");
                return StepResult.ProposalDropped;
            case MessageType.ReadIndex or MessageType.TransferLeader:
                Info($"{Id} no leader at term {Term}; dropping {m.Type.Name()}");
                return StepResult.ProposalDropped;
            case MessageType.App:
                BecomeFollower(m.Term, m.From);
                HandleAppendEntries(m);
                break;
            case MessageType.Heartbeat:
                BecomeFollower(m.Term, m.From);
                HandleHeartbeat(m);
                break;
            case MessageType.Snap:
                BecomeFollower(m.Term, m.From);
                HandleSnapshot(m);
                break;
            case MessageType.TimeoutNow:
                Debug($"{Id} [term {Term} state {State}] ignored MsgTimeoutNow from {m.From}");
                break;
            default:
                if (m.Type == myVoteResp)
                {
                    var (granted, rejected, result) = Poll(m.From, m.Type, !m.Reject);
                    Info($"{Id} has received {granted} {m.Type.Name()} votes and {rejected} vote rejections");
                    if (result == VoteResult.Won)
                    {
                        if (State == StateType.PreCandidate)
                        {
                            Campaign(CampaignType.Election);
                        }
                        else
                        {
                            BecomeLeader();
                            BcastAppend();
                        }
                    }
                    else if (result == VoteResult.Lost)
                    {
                        // A pre-candidate that lost keeps its term: it changed nothing.
                        BecomeFollower(Term, 0);
                    }
                }
                break;
        }
        return StepResult.Ok;
    }
}
