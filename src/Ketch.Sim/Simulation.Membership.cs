using System.Globalization;
using Ketch.Raft;
using Ketch.Raft.Encoding;
using Ketch.Raft.Storage;

namespace Ketch.Sim;

/// <summary>
/// Membership changes (<see cref="SimOptions.Membership"/>): an operator proposes random
/// changes (add a voter or a learner, promote, demote, remove, joint changes with every
/// transition) to the leader or any member, within a pool of ids; members apply committed
/// changes with <see cref="RawNode.ApplyConfChange(ConfChangeV2)"/>; brand-new servers start
/// with an empty disk and learn the configuration from a snapshot; removed ones stop for good.
/// </summary>
internal sealed partial class Simulation
{
    /// <summary>Ids beyond the founders that servers joining later may take.</summary>
    private const int ExtraMemberIds = 4;

    /// <summary>The most voters a change may lead to.</summary>
    private const int MaxVoters = 7;

    // The members in service (founders and added servers not removed yet), in id order. Replaced,
    // never mutated, when it changes, so loops over it are unaffected.
    private List<SimMember> _live;

    // The operator's view: the configuration as of the highest index applied anywhere.
    private ConfState _clusterConf;

    // Ids removed from the cluster (never reused), with the index of the change that removed
    // them: a member that has applied that far refuses their messages.
    private readonly Dictionary<ulong, ulong> _removed = [];

    // Every id ever named by a configuration, with the index of the first one: ids are never
    // reused, so an id named before and absent now was removed.
    private readonly Dictionary<ulong, ulong> _firstNamed = [];

    private void RebuildLive() => _live = [.. _members.Where(m => m.Status == MemberStatus.InService)];

    /// <summary>
    /// Whether the operator accepts <paramref name="cc"/> on top of <paramref name="current"/>:
    /// it must be valid, lead to at most <see cref="MaxVoters"/> voters, and keep a majority of
    /// the old voters (the outgoing half, when leaving a joint configuration) among the new
    /// ones. That last rule avoids a known limitation of changes that take effect when applied
    /// (etcd-io/raft's README, "Implementation notes"): a voter removed from a 2-voter
    /// configuration steps down on applying it; if the other one never learned that the change
    /// committed, it is still in the old configuration, needs the removed one's vote and may
    /// never get it (the removed one's log can be longer, and it no longer campaigns).
    /// </summary>
    private bool OperatorAllows(ConfState current, ConfChangeV2 cc, ulong index, out string why)
    {
        // Removed ids are never added back (etcd refuses them too): a change drawn against an
        // older configuration, say demoting a voter, must not re-add it once it was removed by
        // a change before this one (index: where this one is; the same answer on every member).
        foreach (var c in cc.Changes)
        {
            if (c.Type is ConfChangeType.AddNode or ConfChangeType.AddLearnerNode
                && !current.Voters.Contains(c.NodeId) && !current.VotersOutgoing.Contains(c.NodeId) && !current.Learners.Contains(c.NodeId)
                && !current.LearnersNext.Contains(c.NodeId)
                && _firstNamed.TryGetValue(c.NodeId, out var named) && named < index)
            {
                why = string.Create(CultureInfo.InvariantCulture, $"member {c.NodeId} was removed");
                return false;
            }
        }
        ConfState next;
        try
        {
            next = Changer.Apply(current, cc);
        }
        catch (ConfChangeException e)
        {
            why = e.Message;
            return false;
        }
        var old = current.VotersOutgoing.Count > 0 ? current.VotersOutgoing : current.Voters;
        var kept = old.Count(next.Voters.Contains);
        why = kept * 2 <= old.Count ? "would keep a minority of the old voters"
            : next.Voters.Count > MaxVoters ? "too many voters"
            : "";
        return why.Length == 0;
    }

    /// <summary>Applies a committed configuration-change entry on <paramref name="m"/>. A change
    /// the operator no longer accepts (it was drawn against an older configuration and waited
    /// in the network) is skipped, by every member alike (they all are in the same configuration
    /// there), as etcd's server does by blanking its node id. The first member to apply an index
    /// records the configuration it yields.</summary>
    private void ApplyConfChange(SimMember m, Entry e, bool first)
    {
        var node = m.Node!;
        var cc = RaftEncoding.ReadConfChangeEntry(e);
        ConfState? next = null;
        if (OperatorAllows(node.Raft.Trk.ConfState, cc, e.Index, out var why))
        {
            next = node.ApplyConfChange(cc);
            m.Sm.Conf = next;
        }
        else
        {
            _trace.Add(new TraceEvent(_now, TraceKind.Note, m.Id, null,
                string.Create(CultureInfo.InvariantCulture, $"conf change {cc.Describe()} at {e.Index} skipped: {why}"), e.Index, 0));
        }
        if (next is not null)
        {
            _trace.Add(new TraceEvent(_now, TraceKind.Note, m.Id, null,
                string.Create(CultureInfo.InvariantCulture, $"applied conf change {cc.Describe()} at {e.Index}: {next.Describe()}"), e.Index, 0));
        }
        if (first)
        {
            var conf = m.Sm.Conf!;
            _checker.RecordConfig(e.Index, conf);
            if (next is null)
            {
                _stats.ConfChangesSkipped++;
            }
            else
            {
                _stats.ConfChangesApplied++;
                if (next.VotersOutgoing.Count > 0 && _clusterConf.VotersOutgoing.Count == 0)
                {
                    _stats.JointConfigs++;
                }
            }
            OnClusterConfig(conf, e.Index);
        }
        // A leader's commit index may move with the quorum: check it against the new configuration.
        Observe(m);
    }

    /// <summary>The cluster moved to <paramref name="conf"/> at <paramref name="index"/>: servers
    /// it adds start (with an empty disk), members it no longer names are removed and retire a
    /// little later.</summary>
    private void OnClusterConfig(ConfState conf, ulong index)
    {
        _clusterConf = conf;
        var named = conf.Voters.Concat(conf.VotersOutgoing).Concat(conf.Learners).Concat(conf.LearnersNext).ToHashSet();
        foreach (var id in named.Order())
        {
            _firstNamed.TryAdd(id, index);
            if (id < 1 || id > (ulong)_members.Length)
            {
                throw new SafetyViolationException(ViolationKind.SimulatorInvariant, $"configuration {conf.Describe()} names unknown member {id}");
            }
            var s = MemberOf(id);
            if (s.Status == MemberStatus.Idle)
            {
                s.Status = MemberStatus.InService;
                RebuildLive();
                _stats.MembersAdded++;
                _trace.Add(new TraceEvent(_now, TraceKind.Restart, id, null, "joins the cluster with an empty disk", 0, 0));
                Start(s);
            }
            else if (s.Status == MemberStatus.Retired || _removed.ContainsKey(id))
            {
                throw new SafetyViolationException(ViolationKind.SimulatorInvariant, $"configuration {conf.Describe()} names removed member {id}");
            }
        }
        foreach (var m in _live)
        {
            if (!named.Contains(m.Id) && _removed.TryAdd(m.Id, index))
            {
                _stats.MembersRemoved++;
                m.RetireAt = _now + _memberRng.Between(0, 40);
                _trace.Add(new TraceEvent(_now, TraceKind.Note, m.Id, null,
                    string.Create(CultureInfo.InvariantCulture, $"removed from the cluster; retires at step {m.RetireAt}"), 0, 0));
            }
        }
    }

    /// <summary>
    /// Whether a majority of the cluster's voters applied the change that removed
    /// <paramref name="id"/>. Stopping a removed member before that can leave the cluster
    /// without a quorum for good: a leader in a joint configuration's outgoing half that leaves
    /// it steps down on applying the leave, and if the others never learned that the leave
    /// committed they stay joint and still need its vote (an operator waits for the removal to
    /// have reached the cluster; etcd's removed member learns it from the others' refusals).
    /// </summary>
    private bool RemovalSettled(ulong id)
    {
        var at = _removed[id];
        var voters = _clusterConf.Voters.Union(_clusterConf.VotersOutgoing).ToList();
        return voters.Count(v => MemberOf(v).Sm.AppliedIndex >= at) * 2 > voters.Count;
    }

    /// <summary>A removed member stops for good (its disk stays, for the log checks).</summary>
    private void Retire(SimMember m)
    {
        m.Node = null;
        m.PendingReports.Clear();
        m.Status = MemberStatus.Retired;
        _stats.MembersRetired++;
        RebuildLive();
        _trace.Add(new TraceEvent(_now, TraceKind.Crash, m.Id, null, "retired: removed from the cluster", 0, 0));
    }

    /// <summary>
    /// Per step, with membership changes on: removed members whose time has come retire; a joint
    /// configuration that must be left explicitly is left (now and then, also after healing);
    /// and with the profile's probability the operator proposes a random change, drawn against
    /// the configuration it knows, to the leader or to any member (which forwards it).
    /// </summary>
    private void MaybeChangeMembership()
    {
        if (!_options.Membership)
        {
            return;
        }
        foreach (var m in _live)
        {
            if (m.RetireAt <= _now && RemovalSettled(m.Id))
            {
                Retire(m);
            }
        }
        ConfChangeV2? cc;
        ConfChange? v1 = null;
        var joint = _clusterConf.VotersOutgoing.Count > 0;
        if (joint && !_clusterConf.AutoLeave && _memberRng.Chance(0.05))
        {
            cc = ConfChangeV2.LeaveJointChange;
        }
        else if (!_memberRng.Chance(_profile.ConfChangeProbability))
        {
            return;
        }
        else
        {
            // In an auto-leave joint configuration the leader leaves on its own; asking too
            // must be harmless (refused or skipped).
            cc = joint ? ConfChangeV2.LeaveJointChange : DrawChange();
            if (cc is null)
            {
                return;
            }
            if (cc.Transition == ConfChangeTransition.Auto && cc.Changes.Count == 1 && _memberRng.Chance(0.3))
            {
                v1 = new ConfChange(cc.Changes[0].Type, cc.Changes[0].NodeId);
            }
        }
        var leader = _live.Where(m => m.IsActive(_now) && m.Node!.Raft.State == StateType.Leader)
            .OrderByDescending(m => m.Node!.Raft.Term).FirstOrDefault();
        var target = leader is not null && _memberRng.Chance(0.5) ? leader : _live[_memberRng.Next(_live.Count)];
        if (!target.IsActive(_now))
        {
            return;
        }
        _stats.ConfChangesProposed++;
        var result = v1 is not null ? target.Node!.ProposeConfChange(v1) : target.Node!.ProposeConfChange(cc);
        var what = cc.IsLeaveJoint ? "leave joint" : cc.Describe();
        _trace.Add(new TraceEvent(_now, TraceKind.Propose, target.Id, null,
            string.Create(CultureInfo.InvariantCulture, $"conf change {what}{(v1 is null ? "" : " (v1)")} against {_clusterConf.Describe()}: {result}"), 0, 0));
        Observe(target);
    }

    /// <summary>A random change that fits the operator's configuration (not joint), or null.</summary>
    private ConfChangeV2? DrawChange()
    {
        var voters = _clusterConf.Voters;
        var learners = _clusterConf.Learners;
        var fresh = _members.Where(m => m.Status == MemberStatus.Idle).Select(m => m.Id).ToList();
        ulong Pick(IReadOnlyList<ulong> ids) => ids[_memberRng.Next(ids.Count)];
        ConfChangeSingle? Single(int kind)
        {
            switch (kind)
            {
                case 0 or 1 when fresh.Count > 0:
                    return new ConfChangeSingle(kind == 0 ? ConfChangeType.AddNode : ConfChangeType.AddLearnerNode, Pick(fresh));
                case 2 when learners.Count > 0:
                    return new ConfChangeSingle(ConfChangeType.AddNode, Pick(learners));
                case 3:
                    return new ConfChangeSingle(ConfChangeType.AddLearnerNode, Pick(voters));
                case 4:
                    return new ConfChangeSingle(ConfChangeType.RemoveNode, Pick(voters));
                case 5 when learners.Count > 0:
                    return new ConfChangeSingle(ConfChangeType.RemoveNode, Pick(learners));
                default:
                    return null;
            }
        }
        List<ConfChangeSingle> changes = [];
        var transition = ConfChangeTransition.Auto;
        var kind = _memberRng.Next(8);
        if (kind < 6)
        {
            if (Single(kind) is { } one)
            {
                changes.Add(one);
            }
        }
        else
        {
            // Joint: replace a voter (a newcomer or a learner in, a voter out), or a few changes at once.
            var count = kind == 6 ? 2 : _memberRng.Between(2, 3);
            for (var i = 0; i < count; i++)
            {
                var k = kind == 6 ? (i == 0 ? (_memberRng.Chance(0.5) ? 0 : 2) : 4) : _memberRng.Next(6);
                if (Single(k) is { } c && changes.All(x => x.NodeId != c.NodeId))
                {
                    changes.Add(c);
                }
            }
            transition = (ConfChangeTransition)_memberRng.Next(3);
        }
        if (changes.Count == 0)
        {
            return null;
        }
        // A newcomer's disk is empty, and the bootstrap configuration is not in the log (it is
        // the founders' index-0 snapshot): it must get a snapshot, so every member in service
        // must have compacted its log past index 1 first (no leader can then send entry 1).
        if (changes.Any(c => fresh.Contains(c.NodeId)) && !LogsCompactedPastFirstEntry())
        {
            return null;
        }
        var cc = new ConfChangeV2(transition, changes);
        return OperatorAllows(_clusterConf, cc, ulong.MaxValue, out _) ? cc : null;
    }

    /// <summary>Whether every member in service compacted its disk past index 1; if not, the
    /// running ones that can are asked to snapshot and compact now.</summary>
    private bool LogsCompactedPastFirstEntry()
    {
        var all = true;
        foreach (var m in _live)
        {
            if (m.Disk.FirstIndex() > 1)
            {
                continue;
            }
            all = false;
            if (!m.IsActive(_now) || m.Sm.AppliedIndex == 0)
            {
                continue;
            }
            var snapIndex = m.Disk.Snapshot().Value.Metadata.Index;
            if (m.Sm.AppliedIndex > snapIndex)
            {
                var created = m.Disk.CreateSnapshot(m.Sm.AppliedIndex, m.Sm.Conf, m.Sm.Serialize());
                if (!created.IsOk)
                {
                    throw new SafetyViolationException(ViolationKind.SimulatorInvariant, $"member {m.Id} cannot snapshot at {m.Sm.AppliedIndex}: {created.Error}");
                }
                _stats.SnapshotsTaken++;
                snapIndex = m.Sm.AppliedIndex;
            }
            if (m.Disk.Compact(snapIndex) == StorageError.None)
            {
                _trace.Add(new TraceEvent(_now, TraceKind.Snapshot, m.Id, null, "compacted for a newcomer", snapIndex, snapIndex));
            }
        }
        return all;
    }

    /// <summary>Commit quorum: every entry <paramref name="leader"/> just committed (after
    /// <paramref name="previous"/>, up to <paramref name="commit"/>) must be durable on a
    /// majority of the voters of the configuration it has applied (both halves when joint).</summary>
    private void CheckCommitQuorum(SimMember leader, ulong term, ulong previous, ulong commit)
    {
        var conf = _checker.ConfigAt(leader.Sm.AppliedIndex);
        var log = leader.Node!.Raft.Log;
        for (var i = previous + 1; i <= commit; i++)
        {
            var t = log.Term(i);
            if (!t.IsOk)
            {
                continue;
            }
            var index = i;
            var entryTerm = t.Value;
            SafetyChecker.CheckCommitQuorum(leader.Id, term, index, entryTerm, conf, id =>
            {
                var r = MemberOf(id).Disk.Term(index);
                return r.IsOk ? r.Value == entryTerm : r.Error == StorageError.Compacted;
            });
        }
    }
}
