using Ketch.Raft.Encoding;

namespace Ketch.Raft;

/// <summary>Membership changes: the leader admits one change at a time, every member switches
/// configuration when it applies a change (as etcd-io/raft does), and a joint configuration
/// marked auto-leave is left by the leader on its own.</summary>
internal sealed partial class Raft
{
    /// <summary>Why a proposed configuration change must be refused now, or null.</summary>
    private string? RefuseConfChange(EntryType type, ReadOnlyMemory<byte> data)
    {
        if (PendingConfIndex > Log.Applied)
        {
            return $"possible unapplied conf change at index {PendingConfIndex} (applied to {Log.Applied})";
        }
        bool leaves;
        try
        {
            leaves = type == EntryType.ConfChangeV2 && RaftEncoding.ReadConfChangeV2(data).IsLeaveJoint;
        }
        catch (RaftDecodeException e)
        {
            return "invalid conf change: " + e.Message;
        }
        var joint = Trk.Voters.IsJoint;
        if (joint && !leaves)
        {
            return "must transition out of joint config first";
        }
        if (!joint && leaves)
        {
            return "not in joint state; refusing empty conf change";
        }
        return null;
    }

    /// <summary>Switches to the configuration that <paramref name="cc"/> leads to. Throws
    /// <see cref="ConfChangeException"/> if it does not apply to the current configuration.</summary>
    public ConfState ApplyConfChange(ConfChangeV2 cc)
    {
        var next = Changer.Apply(Trk.ConfState, cc);
        SwitchToConfig(next);
        return Trk.ConfState;
    }

    private void SwitchToConfig(ConfState cs)
    {
        Trk.SetConfiguration(cs, Log.LastIndex());
        var member = Trk.Progress.TryGetValue(Id, out var self);
        IsLearner = member && self!.IsLearner;
        Info($"{Id} switched to configuration {Trk.Voters.Describe()}");
        if (State != StateType.Leader)
        {
            return;
        }
        if (!member || IsLearner)
        {
            // A leader that is no longer a voter steps down; the rest elect a new leader
            // (thesis §4.2.2).
            Info($"{Id} removed or demoted from the configuration; stepping down");
            BecomeFollower(Term, 0);
            return;
        }
        // The quorum changed: commit may move, and new members must be probed.
        if (MaybeCommit())
        {
            OnCommitAdvanced();
        }
        else
        {
            foreach (var id in Trk.IdSpan)
            {
                if (id != Id)
                {
                    MaybeSendAppend(id, sendIfEmpty: false);
                }
            }
        }
        if (LeadTransferee != 0 && !Trk.Voters.Contains(LeadTransferee))
        {
            AbortLeaderTransfer();
        }
    }

    /// <summary>Called after the application applied entries: an auto-leave joint configuration
    /// is left as soon as the change that entered it is applied.</summary>
    internal void OnApplied()
    {
        if (State == StateType.Leader && Trk.AutoLeave && Trk.Voters.IsJoint && Log.Applied >= PendingConfIndex)
        {
            Info($"initiating automatic transition out of joint configuration {Trk.Voters.Describe()}");
            var result = ProposeAsLeader([ReadOnlyMemory<byte>.Empty], EntryType.ConfChangeV2);
            if (result != StepResult.Ok)
            {
                Debug($"not initiating automatic transition out of joint configuration: {result}");
            }
        }
    }
}
