using Ketch.Raft.Storage;
using Ketch.Raft.Tracker;

namespace Ketch.Raft;

/// <summary>The leader: accepting proposals, replicating with flow control, committing.</summary>
internal sealed partial class Raft
{
    private void BecomeLeader()
    {
        if (State == StateType.Follower)
        {
            throw new InvalidOperationException("invalid transition [follower -> leader]");
        }
        Reset(Term);
        Lead = Id;
        State = StateType.Leader;
        // The leader already knows where it stands: replicate to itself, probe the others.
        Trk.Progress[Id].BecomeReplicate();
        // The leader always counts as active for check-quorum (Raft thesis §6.2: it steps down
        // when it has not heard from a majority *including itself*). Reset cleared the flag and
        // the check-quorum round never clears the leader's own, so set it once here; without
        // it a 3-member leader would step down on losing a single follower.
        Trk.Progress[Id].RecentActive = true;
        // Any configuration change in the uncommitted tail may still be pending; treat it as
        // such until it is applied.
        PendingConfIndex = Log.LastIndex();
        // An empty entry of the new term: committing it commits everything before it, which
        // a leader may never do by counting replicas of older terms (Raft §5.4.2, §8).
        var empty = new Entry(Term, Log.LastIndex() + 1, EntryType.Normal, ReadOnlyMemory<byte>.Empty);
        Log.AppendLeaderEntry(empty);
        Info($"{Id} became leader at term {Term}");
    }

    private StepResult StepLeader(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Beat:
                BcastHeartbeat();
                return StepResult.Ok;
            case MessageType.CheckQuorum:
                if (!Trk.QuorumActive())
                {
                    Warn($"{Id} stepped down to follower since quorum is not active");
                    BecomeFollower(Term, 0);
                }
                // Start the next round: every follower must be heard from again.
                foreach (var id in Trk.IdSpan)
                {
                    if (id != Id)
                    {
                        Trk.Progress[id].RecentActive = false;
                    }
                }
                return StepResult.Ok;
            case MessageType.Prop:
                return ProposeAsLeader(m.Entries.Span);
            case MessageType.ReadIndex:
                HandleReadIndexAsLeader(m);
                return StepResult.Ok;
        }

        if (!Trk.Progress.TryGetValue(m.From, out var pr))
        {
            Debug($"{Id} no progress available for {m.From}");
            return StepResult.Ok;
        }
        switch (m.Type)
        {
            case MessageType.AppResp:
                HandleAppendResponse(m, pr);
                break;
            case MessageType.HeartbeatResp:
                pr.RecentActive = true;
                pr.MsgAppFlowPaused = false;
                // A heartbeat answer shows the follower is reachable: resume a probe, or nudge a
                // follower whose inflight appends may all have been lost.
                if (pr.Match < Log.LastIndex() || pr.State == ProgressState.Probe)
                {
                    MaybeSendAppend(m.From, sendIfEmpty: true);
                }
                HandleReadIndexHeartbeatAck(m);
                break;
            case MessageType.TransferLeader:
                HandleTransferLeader(m, pr);
                break;
            case MessageType.SnapStatus:
                if (pr.State != ProgressState.Snapshot)
                {
                    break;
                }
                if (m.Reject)
                {
                    Debug($"{Id} snapshot failed, resumed sending replication messages to {m.From} [{pr.Describe()}]");
                    pr.BecomeProbe();
                }
                else
                {
                    // The follower will answer the snapshot with an AppResp; probe from after it.
                    pr.BecomeProbe();
                    Debug($"{Id} snapshot succeeded, resumed sending replication messages to {m.From} [{pr.Describe()}]");
                }
                // Wait for that answer (or a heartbeat answer) before the next append.
                pr.MsgAppFlowPaused = true;
                break;
            case MessageType.Unreachable:
                // Optimistic replication is pointless to a member we cannot reach.
                if (pr.State == ProgressState.Replicate)
                {
                    pr.BecomeProbe();
                }
                Debug($"{Id} failed to send message to {m.From} because it is unreachable [{pr.Describe()}]");
                break;
        }
        return StepResult.Ok;
    }

    private void HandleAppendResponse(Message m, Progress pr)
    {
        pr.RecentActive = true;
        if (m.Reject)
        {
            Debug($"{Id} received MsgAppResp(rejected, hint: (index {m.RejectHint}, term {m.LogTerm})) from {m.From} for index {m.Index}");
            var nextProbe = m.RejectHint;
            if (m.LogTerm > 0)
            {
                // Skip every index whose term cannot match the follower's hint in one step.
                nextProbe = Log.FindConflictByTerm(m.RejectHint, m.LogTerm).Index;
            }
            if (pr.MaybeDecrTo(m.Index, nextProbe))
            {
                if (pr.State == ProgressState.Replicate)
                {
                    pr.BecomeProbe();
                }
                MaybeSendAppend(m.From, sendIfEmpty: true);
            }
            return;
        }

        var wasPaused = pr.IsPaused;
        // A probe answered at the index we already know also ends probing.
        if (!pr.MaybeUpdate(m.Index) && !(pr.Match == m.Index && pr.State == ProgressState.Probe))
        {
            return;
        }
        switch (pr.State)
        {
            case ProgressState.Probe:
                pr.BecomeReplicate();
                break;
            case ProgressState.Snapshot when pr.Match + 1 >= Log.FirstIndex():
                // The follower caught up past the compaction point: the log can serve it again.
                Debug($"{Id} recovered from needing snapshot, resumed sending replication messages to {m.From} [{pr.Describe()}]");
                pr.BecomeProbe();
                pr.BecomeReplicate();
                break;
            case ProgressState.Replicate:
                pr.Inflights.FreeLE(m.Index);
                break;
        }
        if (MaybeCommit())
        {
            OnCommitAdvanced();
        }
        else if (wasPaused)
        {
            MaybeSendAppend(m.From, sendIfEmpty: true);
        }
        // Freed window space may allow several size-limited messages at once.
        while (MaybeSendAppend(m.From, sendIfEmpty: false))
        {
        }
        if (m.From == LeadTransferee && pr.Match == Log.LastIndex())
        {
            // The transferee caught up: hand over (thesis §3.10).
            Info($"{Id} sent MsgTimeoutNow to {m.From} after received MsgAppResp");
            SendTimeoutNow(m.From);
        }
    }

    /// <summary>The commit index moved: reads held for this term's first commit can be
    /// answered, and followers learn the new commit index.</summary>
    private void OnCommitAdvanced()
    {
        ReleasePendingReadIndexMessages();
        BcastAppend();
    }

    /// <summary>Appends proposed entries to the leader's log, stamping term and index
    /// (Raft §5.3), and replicates them.</summary>
    internal StepResult ProposeAsLeader(ReadOnlySpan<Entry> proposed)
    {
        if (proposed.IsEmpty)
        {
            throw new InvalidOperationException($"{Id} stepped empty MsgProp");
        }
        if (RejectsProposals(out var reason))
        {
            Debug($"{Id} dropping proposal: {reason}");
            return StepResult.ProposalDropped;
        }
        if (!IncreaseUncommittedSize(LogLimits.PayloadBytes(proposed)))
        {
            Warn($"{Id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal");
            return StepResult.ProposalDropped;
        }
        var index = Log.LastIndex();
        var stamped = new Entry[proposed.Length];
        for (var i = 0; i < proposed.Length; i++)
        {
            stamped[i] = Stamp(proposed[i].Type, proposed[i].Data, ++index);
        }
        Log.Append(stamped);
        BcastAppend();
        return StepResult.Ok;
    }

    /// <summary>The allocation-light path for proposals made on the leader itself: entries
    /// are built once, already stamped, straight from the payloads.</summary>
    internal StepResult ProposeAsLeader(ReadOnlySpan<ReadOnlyMemory<byte>> payloads, EntryType type)
    {
        if (payloads.IsEmpty)
        {
            throw new ArgumentException("nothing to propose", nameof(payloads));
        }
        if (RejectsProposals(out var reason))
        {
            Debug($"{Id} dropping proposal: {reason}");
            return StepResult.ProposalDropped;
        }
        long size = 0;
        foreach (var p in payloads)
        {
            size += p.Length;
        }
        if (!IncreaseUncommittedSize(size))
        {
            Warn($"{Id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal");
            return StepResult.ProposalDropped;
        }
        var index = Log.LastIndex();
        foreach (var p in payloads)
        {
            Log.AppendLeaderEntry(Stamp(type, p, ++index));
        }
        BcastAppend();
        return StepResult.Ok;
    }

    private bool RejectsProposals(out string reason)
    {
        if (!Trk.Progress.ContainsKey(Id))
        {
            // This leader was removed from the group; it must not grow the log any more.
            reason = "the leader is not a member of the configuration";
            return true;
        }
        if (LeadTransferee != 0)
        {
            reason = $"leadership is being transferred to {LeadTransferee}";
            return true;
        }
        reason = "";
        return false;
    }

    /// <summary>Builds the entry to append at <paramref name="index"/>. A configuration change
    /// proposed while another is still unapplied becomes an empty entry (one change at a
    /// time, thesis §4.1), keeping the proposer's index arithmetic intact.</summary>
    private Entry Stamp(EntryType type, ReadOnlyMemory<byte> data, ulong index)
    {
        if (type != EntryType.Normal)
        {
            if (RefuseConfChange(type, data) is { } reason)
            {
                Info($"{Id} ignoring conf change at index {index}: {reason}");
                return new Entry(Term, index, EntryType.Normal, ReadOnlyMemory<byte>.Empty);
            }
            PendingConfIndex = index;
        }
        return new Entry(Term, index, type, data);
    }

    /// <summary>
    /// Sends an append to <paramref name="to"/> if flow control allows: entries from its Next
    /// (or, if those were compacted, a snapshot). With <paramref name="sendIfEmpty"/> an
    /// append with no entries is sent too, to carry the commit index. Returns whether a
    /// message was sent.
    /// </summary>
    private bool MaybeSendAppend(ulong to, bool sendIfEmpty)
    {
        var pr = Trk.Progress[to];
        var bumpCommitOnly = false;
        if (pr.IsPaused)
        {
            // A full window blocks entries but not the commit index: an empty append lets the
            // follower apply what is committed without waiting for the next heartbeat.
            if (pr.State == ProgressState.Replicate && pr.CanBumpCommit(Log.Committed))
            {
                bumpCommitOnly = true;
            }
            else
            {
                return false;
            }
        }
        var prevIndex = pr.Next - 1;
        var prevTerm = Log.Term(prevIndex);
        if (!prevTerm.IsOk)
        {
            // The entries the follower needs were compacted away.
            return MaybeSendSnapshot(to, pr);
        }
        var entries = ReadOnlyMemory<Entry>.Empty;
        if (!bumpCommitOnly && !(pr.State == ProgressState.Replicate && pr.Inflights.Full))
        {
            var r = Log.Entries(pr.Next, _maxMsgSize);
            if (!r.IsOk)
            {
                return MaybeSendSnapshot(to, pr);
            }
            entries = r.Value;
        }
        if (entries.IsEmpty && !sendIfEmpty && !bumpCommitOnly)
        {
            return false;
        }
        var commit = Log.Committed;
        Send(new Message
        {
            From = Id,
            To = to,
            Type = MessageType.App,
            Term = Term,
            Index = prevIndex,
            LogTerm = prevTerm.Value,
            Entries = entries,
            Commit = commit,
        });
        var span = entries.Span;
        long bytes = 0;
        foreach (var e in span)
        {
            bytes += e.SizeBytes;
        }
        pr.SentEntries(span.Length, span.IsEmpty ? prevIndex : span[^1].Index, bytes, Math.Min(commit, prevIndex + (ulong)span.Length));
        return true;
    }

    private bool MaybeSendSnapshot(ulong to, Progress pr)
    {
        if (!pr.RecentActive)
        {
            // Do not ship a whole snapshot to a member that may be down.
            Debug($"ignore sending snapshot to {to} since it is not recently active");
            return false;
        }
        var snapshot = Log.Snapshot();
        if (!snapshot.IsOk)
        {
            if (snapshot.Error == StorageError.SnapshotTemporarilyUnavailable)
            {
                Debug($"{Id} failed to send snapshot to {to} because snapshot is temporarily unavailable");
                return false;
            }
            throw new InvalidOperationException($"unexpected error reading the snapshot: {snapshot.Error}");
        }
        var s = snapshot.Value;
        if (s.IsEmpty)
        {
            throw new InvalidOperationException("need non-empty snapshot");
        }
        Debug($"{Id} [firstindex: {Log.FirstIndex()}, commit: {Log.Committed}] sent snapshot[index: {s.Metadata.Index}, term: {s.Metadata.Term}] to {to} [{pr.Describe()}]");
        pr.BecomeSnapshot(s.Metadata.Index);
        Send(new Message { From = Id, To = to, Type = MessageType.Snap, Term = Term, Snapshot = s });
        return true;
    }

    private void BcastAppend()
    {
        foreach (var id in Trk.IdSpan)
        {
            if (id != Id)
            {
                MaybeSendAppend(id, sendIfEmpty: true);
            }
        }
    }

    /// <summary>Heartbeats carry the newest pending read's context, so a lost round of read
    /// confirmations is retried by the next heartbeat.</summary>
    private void BcastHeartbeat() => BcastHeartbeat(_readOnly.LastPendingContext());

    private void BcastHeartbeat(ReadOnlyMemory<byte> context)
    {
        foreach (var id in Trk.IdSpan)
        {
            if (id == Id)
            {
                continue;
            }
            var pr = Trk.Progress[id];
            // Never tell a follower to commit past what it is known to hold: it may not have
            // those entries, or hold different ones.
            var commit = Math.Min(pr.Match, Log.Committed);
            Send(new Message { From = Id, To = id, Type = MessageType.Heartbeat, Term = Term, Commit = commit, Context = context });
            pr.SentHeartbeatCommit(commit);
        }
    }

    /// <summary>Advances the commit index to what a quorum holds, if that entry is of the
    /// current term (Raft §5.4.2).</summary>
    private bool MaybeCommit()
    {
        // Test-only hook (PlantedBug.JointCommitIgnoresOutgoing): count only the incoming half
        // of a joint configuration. Never set in production.
        var index = _plantedBug == PlantedBug.JointCommitIgnoresOutgoing
            ? Trk.Voters.Incoming.CommittedIndex(Trk)
            : Trk.Committed();
        // Test-only hook (PlantedBug.CommitOldTermEntries): pretend the entry is of the current
        // term, so the §5.4.2 check passes for older-term entries. Never set in production.
        var term = _plantedBug == PlantedBug.CommitOldTermEntries ? Log.TermOrZero(index) : Term;
        return Log.MaybeCommit(index, term);
    }

    /// <summary>Called when entries up to (index, term) are durable locally: the leader's own
    /// acknowledgement, which may complete a quorum.</summary>
    internal void OnEntriesStable(ulong index, ulong term)
    {
        Log.StableTo(index, term);
        if (State != StateType.Leader || !Log.MatchTerm(index, term))
        {
            return;
        }
        if (Trk.Progress.TryGetValue(Id, out var self) && self.MaybeUpdate(index) && MaybeCommit())
        {
            OnCommitAdvanced();
        }
    }

    private bool IncreaseUncommittedSize(long size)
    {
        // The first proposal always goes through, however large, so nothing can get stuck.
        if (_uncommittedSize > 0 && size > 0 && _uncommittedSize + size > _maxUncommittedSize)
        {
            return false;
        }
        _uncommittedSize += size;
        return true;
    }

    internal void ReduceUncommittedSize(long size) =>
        _uncommittedSize = size > _uncommittedSize ? 0 : _uncommittedSize - size;

    internal void ReportUnreachable(ulong id) =>
        Step(new Message { Type = MessageType.Unreachable, From = id });

    internal void ReportSnapshot(ulong id, bool failed) =>
        Step(new Message { Type = MessageType.SnapStatus, From = id, Reject = failed });
}
