using Ketch.Raft;

namespace Ketch.Sim;

/// <summary>
/// The global history of a run and the safety properties checked against it (Raft figure 3).
/// The simulator feeds it every observation as it happens; each Observe/Check method throws
/// <see cref="SafetyViolationException"/> at the first contradiction. It knows nothing of the
/// cluster, so tests can feed it hand-made histories.
/// </summary>
internal sealed class SafetyChecker
{
    // (a) every (term, leader) ever seen.
    private readonly Dictionary<ulong, ulong> _leaderByTerm = [];

    // (b) every entry id ever persisted, with the term of the entry before it in that log.
    private readonly Dictionary<(ulong Index, ulong Term), (ulong Hash, ulong PrevTerm)> _entries = [];

    // (c) the cluster's committed entries, index i at [i - 1], with the term in which each was
    // first seen committed (the committing leader's term).
    private readonly List<(EntryId Id, ulong CommitTerm)> _committed = [];

    // (d) the cluster's applied entries, index i at [i - 1], with the hash chain after it.
    private readonly List<(EntryId Id, ulong Chain, ulong FirstMember)> _applied = [];

    // (e) per member: the incarnation and commit index last seen, and the commit index persisted.
    private readonly Dictionary<ulong, (int Incarnation, ulong Commit)> _commitSeen = [];
    private readonly Dictionary<ulong, HardState> _persisted = [];

    // Membership: the cluster's configuration history, ascending: (index of the change that
    // led to it, the configuration); (0, bootstrap configuration) first.
    private readonly List<(ulong Index, ConfState Conf)> _configs = [];

    /// <summary>The highest index known committed anywhere.</summary>
    public ulong CommittedIndex => (ulong)_committed.Count;

    /// <summary>The highest index applied anywhere.</summary>
    public ulong AppliedIndex => (ulong)_applied.Count;

    /// <summary>Number of distinct terms that had a leader.</summary>
    public int LeaderTerms => _leaderByTerm.Count;

    /// <summary>
    /// (a) Election safety: at most one leader per term, ever. Returns true when this (term,
    /// leader) is new, i.e. <paramref name="id"/> just won: the caller then checks leader
    /// completeness on its log.
    /// </summary>
    public bool ObserveLeader(ulong id, ulong term)
    {
        if (_leaderByTerm.TryGetValue(term, out var other))
        {
            if (other != id)
            {
                throw new SafetyViolationException(ViolationKind.ElectionSafety,
                    $"two leaders in term {term}: {other} and {id}");
            }
            return false;
        }
        _leaderByTerm[term] = id;
        return true;
    }

    /// <summary>
    /// (b) Log matching, incrementally: <paramref name="member"/> persisted entry
    /// <paramref name="id"/> at <paramref name="index"/>, after an entry of term
    /// <paramref name="prevTerm"/> (null if that one was compacted). One (index, term) must always
    /// name the same entry and follow the same term: by induction on the index, two logs that
    /// share an (index, term) then share the whole prefix up to it.
    /// </summary>
    public void ObserveAppend(ulong member, ulong index, EntryId id, ulong? prevTerm)
    {
        if (_entries.TryGetValue((index, id.Term), out var known))
        {
            if (known.Hash != id.Hash)
            {
                throw new SafetyViolationException(ViolationKind.LogMatching,
                    $"member {member} persisted entry {index} of term {id.Term} with content {id.Hash:x16}, but that entry id was first seen with content {known.Hash:x16}");
            }
            if (prevTerm is { } p && p != known.PrevTerm && known.PrevTerm != ulong.MaxValue)
            {
                throw new SafetyViolationException(ViolationKind.LogMatching,
                    $"member {member} holds entry {index} of term {id.Term} after an entry of term {p}, but elsewhere it follows term {known.PrevTerm}");
            }
            if (prevTerm is { } q && known.PrevTerm == ulong.MaxValue)
            {
                _entries[(index, id.Term)] = (id.Hash, q);
            }
            return;
        }
        _entries[(index, id.Term)] = (id.Hash, prevTerm ?? ulong.MaxValue);
    }

    /// <summary>
    /// (b) Log matching, directly: for every pair of logs, if both hold an entry with the same
    /// index and term, they hold identical entries at every index up to it that both still hold.
    /// </summary>
    public static void CheckLogMatching(IReadOnlyList<(ulong Member, LogView Log)> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        for (var a = 0; a < logs.Count; a++)
        {
            for (var b = a + 1; b < logs.Count; b++)
            {
                CheckPair(logs[a].Member, logs[a].Log, logs[b].Member, logs[b].Log);
            }
        }
    }

    private static void CheckPair(ulong ma, LogView a, ulong mb, LogView b)
    {
        var lo = Math.Max(a.FirstIndex, b.FirstIndex);
        var hi = Math.Min(a.LastIndex, b.LastIndex);
        if (hi < lo)
        {
            return;
        }
        // The highest index where both hold the same term: everything below must agree.
        var match = 0UL;
        for (var i = hi; i >= lo; i--)
        {
            a.TryGet(i, out var ea);
            b.TryGet(i, out var eb);
            if (ea.Term == eb.Term)
            {
                match = i;
                break;
            }
            if (i == 0)
            {
                break;
            }
        }
        for (var i = lo; i <= match && match != 0; i++)
        {
            a.TryGet(i, out var ea);
            b.TryGet(i, out var eb);
            if (ea != eb)
            {
                throw new SafetyViolationException(ViolationKind.LogMatching,
                    $"members {ma} and {mb} both hold entry {match} of the same term, but differ at index {i}: {ea} vs {eb}\n  {ma}: {a.Describe()}\n  {mb}: {b.Describe()}");
            }
        }
    }

    /// <summary>
    /// Records that <paramref name="member"/>, in <paramref name="term"/>, has its commit index
    /// at <paramref name="commit"/>; <paramref name="log"/> covers (at least) the newly committed
    /// indexes. Indexes first seen committed now are recorded with <paramref name="term"/> as the
    /// term they were committed in (the leader always learns first, and is observed right after
    /// each of its steps). Indexes already recorded must hold the same entry in this member's log.
    /// </summary>
    public void ObserveCommitted(ulong member, ulong term, ulong commit, ulong previousCommit, LogView log)
    {
        ArgumentNullException.ThrowIfNull(log);
        for (var i = previousCommit + 1; i <= commit; i++)
        {
            if (!log.TryGet(i, out var id))
            {
                continue;
            }
            if (i <= (ulong)_committed.Count)
            {
                var known = _committed[(int)(i - 1)].Id;
                if (known != id)
                {
                    throw new SafetyViolationException(ViolationKind.LogMatching,
                        $"member {member} committed entry {i} = {id}, but the cluster committed {known} there");
                }
            }
            else if (i == (ulong)_committed.Count + 1)
            {
                _committed.Add((id, term));
            }
        }
    }

    /// <summary>
    /// (c) Leader completeness: <paramref name="leader"/>, just elected in <paramref name="term"/>,
    /// must hold every entry committed in an earlier term (those below its compaction point are
    /// in its snapshot, which <see cref="ObserveSnapshot"/> checks).
    /// </summary>
    public void CheckLeaderCompleteness(ulong leader, ulong term, LogView log)
    {
        ArgumentNullException.ThrowIfNull(log);
        for (var i = Math.Max(log.FirstIndex, 1UL); i <= (ulong)_committed.Count; i++)
        {
            var (id, commitTerm) = _committed[(int)(i - 1)];
            if (commitTerm >= term)
            {
                continue;
            }
            if (!log.TryGet(i, out var ours) || ours != id)
            {
                var has = log.TryGet(i, out var o) ? o.ToString() : "nothing";
                throw new SafetyViolationException(ViolationKind.LeaderCompleteness,
                    $"member {leader} became leader of term {term} with {has} at index {i}, but entry {id} was committed there in term {commitTerm}\n  leader log: {log.Describe()}");
            }
        }
    }

    /// <summary>
    /// (d) State machine safety: <paramref name="member"/> applied entry <paramref name="id"/> at
    /// <paramref name="index"/>, its state machine's hash chain becoming <paramref name="chain"/>.
    /// Every member must apply the same entry at each index, which must be the committed one.
    /// </summary>
    public void ObserveApply(ulong member, ulong index, EntryId id, ulong chain)
    {
        if (index <= (ulong)_committed.Count && _committed[(int)(index - 1)].Id != id)
        {
            throw new SafetyViolationException(ViolationKind.StateMachineSafety,
                $"member {member} applied {id} at index {index}, but the cluster committed {_committed[(int)(index - 1)].Id} there");
        }
        if (index <= (ulong)_applied.Count)
        {
            var known = _applied[(int)(index - 1)];
            if (known.Id != id || known.Chain != chain)
            {
                throw new SafetyViolationException(ViolationKind.StateMachineSafety,
                    $"member {member} applied {id} at index {index} (chain {chain:x16}), but member {known.FirstMember} applied {known.Id} there (chain {known.Chain:x16})");
            }
            return;
        }
        if (index != (ulong)_applied.Count + 1)
        {
            throw new SafetyViolationException(ViolationKind.StateMachineSafety,
                $"member {member} applied index {index} while nothing anywhere was applied past {_applied.Count}: applied entries must be contiguous");
        }
        _applied.Add((id, chain, member));
    }

    /// <summary>(d) for snapshots: <paramref name="member"/> installed (or restarted from) a
    /// snapshot whose state machine, as of <paramref name="index"/>, has hash chain
    /// <paramref name="chain"/>; it must be what the cluster applied up to there.</summary>
    public void ObserveSnapshot(ulong member, ulong index, ulong chain)
    {
        if (index == 0)
        {
            return;
        }
        if (index > (ulong)_applied.Count)
        {
            throw new SafetyViolationException(ViolationKind.StateMachineSafety,
                $"member {member} installed a snapshot at index {index}, past anything applied anywhere ({_applied.Count})");
        }
        var known = _applied[(int)(index - 1)];
        if (known.Chain != chain)
        {
            throw new SafetyViolationException(ViolationKind.StateMachineSafety,
                $"member {member} installed a snapshot at index {index} with chain {chain:x16}, but the applied history there has chain {known.Chain:x16}");
        }
    }

    /// <summary>
    /// Linearizable reads: a read index answered to a request issued when the cluster had
    /// committed up to <paramref name="committedAtIssue"/> must be at least that: every write
    /// completed before the read began is then visible once the reader applies up to the index.
    /// </summary>
    public static void CheckReadIndex(ulong member, int request, ulong readIndex, ulong committedAtIssue)
    {
        if (readIndex < committedAtIssue)
        {
            throw new SafetyViolationException(ViolationKind.Linearizability,
                $"member {member} got read index {readIndex} for read r{request}, but index {committedAtIssue} was committed before that read was issued");
        }
    }

    /// <summary>(f) After convergence: every acknowledged proposal (applied by some member at
    /// some point) is applied on every member, and all members stand at the same applied index.</summary>
    public static void CheckAcknowledgedApplied(IReadOnlySet<int> acknowledged,
        IReadOnlyList<(ulong Member, ulong AppliedIndex, IReadOnlyList<int> Proposals)> members)
    {
        ArgumentNullException.ThrowIfNull(acknowledged);
        ArgumentNullException.ThrowIfNull(members);
        foreach (var (member, appliedIndex, proposals) in members)
        {
            if (appliedIndex != members[0].AppliedIndex)
            {
                throw new SafetyViolationException(ViolationKind.Liveness,
                    $"members {members[0].Member} and {member} did not converge: applied {members[0].AppliedIndex} vs {appliedIndex}");
            }
            var applied = proposals.ToHashSet();
            foreach (var p in acknowledged.Order())
            {
                if (!applied.Contains(p))
                {
                    throw new SafetyViolationException(ViolationKind.Liveness,
                        $"acknowledged proposal p{p} is not applied on member {member} (applied index {appliedIndex})");
                }
            }
        }
    }

    /// <summary>(e) <paramref name="member"/>'s commit index, in its incarnation
    /// <paramref name="incarnation"/>, never decreases while it stays up. Returns the previous value seen in
    /// this incarnation.</summary>
    public ulong ObserveCommitIndex(ulong member, int incarnation, ulong commit)
    {
        if (_commitSeen.TryGetValue(member, out var seen) && seen.Incarnation == incarnation)
        {
            if (commit < seen.Commit)
            {
                throw new SafetyViolationException(ViolationKind.CommitMonotonicity,
                    $"member {member} commit index went from {seen.Commit} down to {commit}");
            }
            if (commit == seen.Commit)
            {
                return commit;
            }
        }
        _commitSeen[member] = (incarnation, commit);
        return seen.Incarnation == incarnation ? seen.Commit : 0;
    }

    /// <summary>
    /// What <paramref name="member"/> persists: (e) the commit index never decreases; and, for
    /// (a), the term never decreases and the vote, once cast in a term, never changes within it
    /// (one vote per term, Raft §5.2: the durable half of election safety).
    /// </summary>
    public void ObservePersistedHardState(ulong member, HardState hs)
    {
        if (_persisted.TryGetValue(member, out var before))
        {
            if (hs.Commit < before.Commit)
            {
                throw new SafetyViolationException(ViolationKind.CommitMonotonicity,
                    $"member {member} persisted commit index {hs.Commit} after having persisted {before.Commit}");
            }
            if (hs.Term < before.Term)
            {
                throw new SafetyViolationException(ViolationKind.ElectionSafety,
                    $"member {member} persisted term {hs.Term} after having persisted {before.Term}");
            }
            if (hs.Term == before.Term && before.Vote != 0 && hs.Vote != before.Vote)
            {
                throw new SafetyViolationException(ViolationKind.ElectionSafety,
                    $"member {member} voted for {before.Vote} and then for {hs.Vote} in term {hs.Term}");
            }
        }
        _persisted[member] = hs;
    }

    /// <summary>(e) A restarted member comes back with at least the commit index it persisted.</summary>
    public void ObserveRestart(ulong member, ulong commit)
    {
        if (_persisted.TryGetValue(member, out var persisted) && commit < persisted.Commit)
        {
            throw new SafetyViolationException(ViolationKind.CommitMonotonicity,
                $"member {member} restarted with commit index {commit}, below the {persisted.Commit} it had persisted");
        }
    }

    /// <summary>Records the configuration the cluster is in from <paramref name="index"/> on:
    /// the bootstrap one at 0, then the one each configuration-change entry yields, as the first
    /// member applies it (every member applies the same changes in the same order).</summary>
    public void RecordConfig(ulong index, ConfState conf)
    {
        ArgumentNullException.ThrowIfNull(conf);
        if (_configs.Count > 0 && index <= _configs[^1].Index)
        {
            throw new SafetyViolationException(ViolationKind.SimulatorInvariant,
                $"configuration recorded at index {index} after one at {_configs[^1].Index}");
        }
        _configs.Add((index, conf));
    }

    /// <summary>The cluster's configuration as of applied index <paramref name="applied"/>: the
    /// one the last configuration change at or below it yields.</summary>
    public ConfState ConfigAt(ulong applied)
    {
        var lo = 0;
        var hi = _configs.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (_configs[mid].Index <= applied)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return _configs[lo].Conf;
    }

    /// <summary>
    /// Membership: a member that has applied up to <paramref name="applied"/> must be in the
    /// configuration the cluster's changes up to there yield (changes take effect when applied,
    /// as in etcd-io/raft). A member that has applied nothing and knows no configuration (a
    /// newcomer waiting for its first snapshot) is exempt.
    /// </summary>
    public void CheckMemberConfig(ulong member, ulong applied, ConfState actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        if (applied == 0 && actual.Voters.Count == 0 && actual.Learners.Count == 0)
        {
            return;
        }
        var expected = ConfigAt(applied);
        if (!expected.Equals(actual))
        {
            throw new SafetyViolationException(ViolationKind.MembershipSafety,
                $"member {member} applied up to {applied} is in configuration {actual.Describe()}, but the cluster's changes up to there yield {expected.Describe()}");
        }
    }

    /// <summary>Membership: a snapshot (installed, or restarted from) carries the configuration
    /// as of its index: a member restoring it must end up where the cluster was.</summary>
    public void CheckSnapshotConfig(ulong member, ulong index, ConfState conf)
    {
        ArgumentNullException.ThrowIfNull(conf);
        if (index == 0)
        {
            return;
        }
        var expected = ConfigAt(index);
        if (!expected.Equals(conf))
        {
            throw new SafetyViolationException(ViolationKind.MembershipSafety,
                $"member {member} has a snapshot at index {index} with configuration {conf.Describe()}, but the cluster was in {expected.Describe()} there");
        }
    }

    /// <summary>Membership: a leader must be a voter (of either half, when joint) of the
    /// configuration it has applied (thesis §4.2.2: a removed leader steps down once the
    /// change takes effect).</summary>
    public static void CheckLeaderIsVoter(ulong leader, ulong term, ulong applied, ConfState conf)
    {
        ArgumentNullException.ThrowIfNull(conf);
        if (!conf.Voters.Contains(leader) && !conf.VotersOutgoing.Contains(leader))
        {
            throw new SafetyViolationException(ViolationKind.MembershipSafety,
                $"member {leader} is leader of term {term} but not a voter of the configuration it applied (up to {applied}): {conf.Describe()}");
        }
    }

    /// <summary>
    /// Commit quorum: <paramref name="leader"/>, in <paramref name="term"/>, committed entry
    /// <paramref name="index"/> of term <paramref name="entryTerm"/> under configuration
    /// <paramref name="conf"/>; the entry must be durable (on the disk, crashed or not:
    /// <paramref name="durableOn"/>) on a majority of its voters, and of the outgoing voters too
    /// when it is joint (thesis §4.3). A disk compacted past the entry counts: it committed it.
    /// </summary>
    public static void CheckCommitQuorum(ulong leader, ulong term, ulong index, ulong entryTerm, ConfState conf, Func<ulong, bool> durableOn)
    {
        ArgumentNullException.ThrowIfNull(conf);
        ArgumentNullException.ThrowIfNull(durableOn);
        Half(conf.Voters, "voters");
        if (conf.VotersOutgoing.Count > 0)
        {
            Half(conf.VotersOutgoing, "outgoing voters");
        }

        void Half(IReadOnlyList<ulong> voters, string which)
        {
            var durable = voters.Where(durableOn).ToList();
            if (durable.Count * 2 <= voters.Count)
            {
                throw new SafetyViolationException(ViolationKind.CommitQuorum,
                    $"leader {leader} of term {term} committed entry {index} (term {entryTerm}) in configuration {conf.Describe()}, but it is durable on only [{string.Join(",", durable)}] of the {which} [{string.Join(",", voters)}]");
            }
        }
    }
}
