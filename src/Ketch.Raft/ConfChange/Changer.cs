namespace Ketch.Raft;

/// <summary>
/// Computes the configuration a membership change leads to, from the current one, and checks
/// the change is allowed: a simple change may alter at most one voter (thesis §4.1, so any two
/// majorities overlap); bigger changes go through a joint configuration (thesis §4.3). Pure:
/// it works on <see cref="ConfState"/> values and never touches replication state.
/// </summary>
internal static class Changer
{
    /// <summary>Enters a joint configuration: the current voters become the outgoing half and
    /// the operations apply to the incoming half.</summary>
    public static ConfState EnterJoint(ConfState current, bool autoLeave, IReadOnlyList<ConfChangeSingle> changes)
    {
        if (current.VotersOutgoing.Count > 0)
        {
            throw new ConfChangeException("config is already joint");
        }
        if (current.Voters.Count == 0)
        {
            throw new ConfChangeException("can't make a zero-voter config joint");
        }
        var draft = new Draft(current) { Outgoing = [.. current.Voters] };
        draft.Apply(changes);
        draft.AutoLeave = autoLeave;
        return draft.Build();
    }

    /// <summary>Leaves a joint configuration: the outgoing half goes, outgoing voters that were
    /// made learners become learners.</summary>
    public static ConfState LeaveJoint(ConfState current)
    {
        if (current.VotersOutgoing.Count == 0)
        {
            throw new ConfChangeException("can't leave a non-joint config");
        }
        var draft = new Draft(current);
        draft.Learners.UnionWith(draft.LearnersNext);
        draft.LearnersNext.Clear();
        draft.Outgoing.Clear();
        draft.AutoLeave = false;
        return draft.Build();
    }

    /// <summary>Applies a change without joint consensus; at most one voter may change.</summary>
    public static ConfState Simple(ConfState current, IReadOnlyList<ConfChangeSingle> changes)
    {
        if (current.VotersOutgoing.Count > 0)
        {
            throw new ConfChangeException("can't apply simple config change in joint config");
        }
        var draft = new Draft(current);
        draft.Apply(changes);
        var before = new HashSet<ulong>(current.Voters);
        before.SymmetricExceptWith(draft.Incoming);
        if (before.Count > 1)
        {
            throw new ConfChangeException("more than one voter changed without entering joint config");
        }
        return draft.Build();
    }

    /// <summary>Dispatches on the kind of change.</summary>
    public static ConfState Apply(ConfState current, ConfChangeV2 cc)
    {
        if (cc.IsLeaveJoint)
        {
            return LeaveJoint(current);
        }
        return cc.EntersJoint(out var autoLeave)
            ? EnterJoint(current, autoLeave, cc.Changes)
            : Simple(current, cc.Changes);
    }

    private sealed class Draft
    {
        public Draft(ConfState cs)
        {
            Incoming = [.. cs.Voters];
            Outgoing = [.. cs.VotersOutgoing];
            Learners = [.. cs.Learners];
            LearnersNext = [.. cs.LearnersNext];
            AutoLeave = cs.AutoLeave;
        }

        public SortedSet<ulong> Incoming { get; }

        public SortedSet<ulong> Outgoing { get; init; }

        public SortedSet<ulong> Learners { get; }

        public SortedSet<ulong> LearnersNext { get; }

        public bool AutoLeave { get; set; }

        public void Apply(IReadOnlyList<ConfChangeSingle> changes)
        {
            foreach (var cc in changes)
            {
                if (cc.NodeId == 0)
                {
                    continue;
                }
                switch (cc.Type)
                {
                    case ConfChangeType.AddNode:
                        Incoming.Add(cc.NodeId);
                        Learners.Remove(cc.NodeId);
                        LearnersNext.Remove(cc.NodeId);
                        break;
                    case ConfChangeType.AddLearnerNode:
                        MakeLearner(cc.NodeId);
                        break;
                    case ConfChangeType.RemoveNode:
                        Incoming.Remove(cc.NodeId);
                        Learners.Remove(cc.NodeId);
                        LearnersNext.Remove(cc.NodeId);
                        break;
                    case ConfChangeType.UpdateNode:
                        break;
                    default:
                        throw new ConfChangeException($"unexpected conf change type {cc.Type}");
                }
            }
            if (Incoming.Count == 0)
            {
                throw new ConfChangeException("removed all voters");
            }
        }

        private void MakeLearner(ulong id)
        {
            if (Learners.Contains(id))
            {
                return;
            }
            Incoming.Remove(id);
            LearnersNext.Remove(id);
            // A voter of the outgoing half must keep voting until the joint state is left; it
            // becomes a learner then.
            if (Outgoing.Contains(id))
            {
                LearnersNext.Add(id);
            }
            else
            {
                Learners.Add(id);
            }
        }

        public ConfState Build()
        {
            var cs = new ConfState
            {
                Voters = Incoming.ToArray(),
                VotersOutgoing = Outgoing.ToArray(),
                Learners = Learners.ToArray(),
                LearnersNext = LearnersNext.ToArray(),
                AutoLeave = Outgoing.Count > 0 && AutoLeave,
            };
            CheckInvariants(cs);
            return cs;
        }

        private static void CheckInvariants(ConfState cs)
        {
            var voters = cs.Voters.Concat(cs.VotersOutgoing).ToHashSet();
            if (cs.Learners.Any(voters.Contains))
            {
                throw new ConfChangeException("a member is both voter and learner");
            }
            if (cs.LearnersNext.Any(id => !cs.VotersOutgoing.Contains(id) || cs.Voters.Contains(id)))
            {
                throw new ConfChangeException("a learner-to-be is not an outgoing-only voter");
            }
        }
    }
}
