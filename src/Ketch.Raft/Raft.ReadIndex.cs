namespace Ketch.Raft;

/// <summary>
/// Linearizable reads without writing to the log (Raft thesis §6.4): the leader records its
/// commit index, confirms it is still the leader (a heartbeat quorum, or its lease), and
/// answers with that index; the reader waits until it has applied that far.
/// </summary>
internal sealed partial class Raft
{
    private ReadOnly _readOnly = new(ReadOnlyOption.Safe);

    // The id of the last read round; never reset, so acknowledgements of an old round can
    // never complete a new one, whatever the term or role changes in between.
    private ulong _readRound;
    private readonly List<Message> _pendingReadIndexMessages = [];
    private List<ReadState> _readStates = [];

    public int ReadStateCount => _readStates.Count;

    public IReadOnlyList<ReadState> TakeReadStates()
    {
        if (_readStates.Count == 0)
        {
            return [];
        }
        var taken = _readStates;
        _readStates = [];
        return taken;
    }

    /// <summary>Whether this leader has committed an entry of its own term. Until it has, its
    /// commit index may lag what earlier leaders committed, so it must not answer reads
    /// (thesis §6.4 step 1).</summary>
    private bool CommittedEntryInCurrentTerm => Log.TermOrZero(Log.Committed) == Term;

    private void HandleReadIndexAsLeader(Message m)
    {
        if (!CommittedEntryInCurrentTerm)
        {
            // Held until the no-op entry of this term commits (ReleasePendingReadIndexMessages).
            _pendingReadIndexMessages.Add(m);
            return;
        }
        SendReadIndexResponse(m);
    }

    private void SendReadIndexResponse(Message m)
    {
        if (Trk.IsSingleton)
        {
            // The only voter needs nobody to confirm its leadership.
            RespondToReadIndex(m, Log.Committed);
            return;
        }
        switch (_readOnly.Option)
        {
            case ReadOnlyOption.Safe when _plantedBug == PlantedBug.ReadIndexWithoutQuorum:
                // Test-only hook (PlantedBug.ReadIndexWithoutQuorum): answer without confirming
                // leadership. Never set in production.
                RespondToReadIndex(m, Log.Committed);
                break;
            case ReadOnlyOption.Safe:
                // Each round gets an id that never repeats on this member (see ReadOnly).
                var round = ReadOnly.EncodeRound(++_readRound);
                if (_readOnly.Add(_readRound, Log.Committed, m))
                {
                    _readOnly.Acknowledge(Id, round);
                    BcastHeartbeat(round);
                }
                break;
            case ReadOnlyOption.LeaseBased:
                RespondToReadIndex(m, Log.Committed);
                break;
        }
    }

    /// <summary>Counts a heartbeat answer toward the pending reads; a quorum answers every read
    /// queued up to the acknowledged one.</summary>
    private void HandleReadIndexHeartbeatAck(Message m)
    {
        if (_readOnly.Option != ReadOnlyOption.Safe || m.Context.IsEmpty)
        {
            return;
        }
        var acks = _readOnly.Acknowledge(m.From, m.Context.Span);
        if (acks is null || Trk.Voters.Tally(acks) != Quorum.VoteResult.Won)
        {
            return;
        }
        foreach (var (index, request) in _readOnly.Advance(m.Context.Span))
        {
            RespondToReadIndex(request, index);
        }
    }

    private void RespondToReadIndex(Message request, ulong index)
    {
        if (request.From == 0 || request.From == Id)
        {
            _readStates.Add(new ReadState(index, request.Context));
            return;
        }
        Send(new Message { From = Id, To = request.From, Type = MessageType.ReadIndexResp, Term = Term, Index = index, Context = request.Context });
    }

    private void ReleasePendingReadIndexMessages()
    {
        if (_pendingReadIndexMessages.Count == 0 || !CommittedEntryInCurrentTerm)
        {
            return;
        }
        var pending = _pendingReadIndexMessages.ToArray();
        _pendingReadIndexMessages.Clear();
        foreach (var m in pending)
        {
            SendReadIndexResponse(m);
        }
    }

    /// <summary>Drops every unanswered read: after a role or term change this member can no
    /// longer vouch for them, and an answer from a deposed leader could be stale. Readers retry.</summary>
    private void ResetReads()
    {
        _readOnly = new ReadOnly(_readOnly.Option);
        _pendingReadIndexMessages.Clear();
    }
}
