using Ketch.Raft;

namespace Ketch.Sim.Tests;

/// <summary>Each checker, fed a hand-made history, accepts the legal one and reports the
/// violating one with the right kind.</summary>
public sealed class CheckerTests
{
    private static EntryId E(ulong term, ulong payload) => new(term, payload);

    private static LogView Log(ulong first, params EntryId[] entries) => new(first, entries);

    private static void AssertViolation(ViolationKind kind, Action history)
    {
        var e = Assert.Throws<SafetyViolationException>(history);
        Assert.Equal(kind, e.Kind);
    }

    [Fact]
    public void Election_safety_allows_one_leader_per_term()
    {
        var c = new SafetyChecker();
        Assert.True(c.ObserveLeader(1, term: 2));
        Assert.False(c.ObserveLeader(1, term: 2));
        Assert.True(c.ObserveLeader(2, term: 3));
        AssertViolation(ViolationKind.ElectionSafety, () => c.ObserveLeader(3, term: 2));
    }

    [Fact]
    public void Log_matching_incremental_rejects_one_entry_id_with_two_contents()
    {
        var c = new SafetyChecker();
        c.ObserveAppend(1, 5, E(2, 100), prevTerm: 1);
        c.ObserveAppend(2, 5, E(2, 100), prevTerm: 1);
        c.ObserveAppend(3, 5, E(3, 200), prevTerm: 1);
        AssertViolation(ViolationKind.LogMatching, () => c.ObserveAppend(3, 5, E(2, 999), prevTerm: 1));
    }

    [Fact]
    public void Log_matching_incremental_rejects_one_entry_id_after_two_different_terms()
    {
        var c = new SafetyChecker();
        c.ObserveAppend(1, 5, E(2, 100), prevTerm: 1);
        c.ObserveAppend(2, 5, E(2, 100), prevTerm: null); // predecessor compacted: nothing to say
        AssertViolation(ViolationKind.LogMatching, () => c.ObserveAppend(3, 5, E(2, 100), prevTerm: 2));
    }

    [Fact]
    public void Log_matching_pairwise_accepts_divergent_tails_and_rejects_a_differing_prefix()
    {
        // Same prefix, tails of different terms after index 3: legal.
        var a = Log(1, E(1, 1), E(1, 2), E(2, 3), E(2, 4));
        var b = Log(1, E(1, 1), E(1, 2), E(2, 3), E(3, 5), E(3, 6));
        SafetyChecker.CheckLogMatching([(1, a), (2, b)]);
        // Compacted prefixes only compare what both still hold.
        SafetyChecker.CheckLogMatching([(1, a), (3, Log(3, E(2, 3), E(3, 5)))]);
        // Both hold (4, term 2) but differ at index 2: broken.
        var c = Log(1, E(1, 1), E(1, 99), E(2, 3), E(2, 4));
        AssertViolation(ViolationKind.LogMatching, () => SafetyChecker.CheckLogMatching([(1, a), (2, b), (3, c)]));
    }

    [Fact]
    public void A_member_committing_a_different_entry_than_the_cluster_is_a_log_matching_violation()
    {
        var c = new SafetyChecker();
        c.ObserveCommitted(1, term: 2, commit: 2, previousCommit: 0, Log(1, E(1, 1), E(2, 2)));
        c.ObserveCommitted(2, term: 2, commit: 2, previousCommit: 0, Log(1, E(1, 1), E(2, 2)));
        AssertViolation(ViolationKind.LogMatching,
            () => c.ObserveCommitted(3, term: 3, commit: 2, previousCommit: 0, Log(1, E(1, 1), E(3, 7))));
    }

    [Fact]
    public void Leader_completeness_requires_entries_committed_in_earlier_terms()
    {
        var c = new SafetyChecker();
        // Figure 8: entry 2 of term 2 committed (wrongly) in term 4.
        c.ObserveCommitted(1, term: 4, commit: 2, previousCommit: 0, Log(1, E(1, 1), E(2, 2)));
        // A leader of term 4 itself is not bound by what it commits in its own term...
        c.CheckLeaderCompleteness(1, term: 4, Log(1, E(1, 1)));
        // ...a leader of a later term holding it is fine, and one whose log was compacted past it too...
        c.CheckLeaderCompleteness(2, term: 5, Log(1, E(1, 1), E(2, 2), E(5, 0)));
        c.CheckLeaderCompleteness(2, term: 5, Log(3, E(5, 0)));
        // ...but a leader of term 5 with entry 2 of term 3 lacks it.
        AssertViolation(ViolationKind.LeaderCompleteness,
            () => c.CheckLeaderCompleteness(5, term: 5, Log(1, E(1, 1), E(3, 9), E(5, 0))));
        AssertViolation(ViolationKind.LeaderCompleteness,
            () => c.CheckLeaderCompleteness(5, term: 6, Log(1, E(1, 1))));
    }

    [Fact]
    public void State_machine_safety_requires_the_same_entry_at_each_index()
    {
        var c = new SafetyChecker();
        var chain1 = EntryId.Chain(0, 1, E(1, 1));
        var chain2 = EntryId.Chain(chain1, 2, E(1, 2));
        c.ObserveApply(1, 1, E(1, 1), chain1);
        c.ObserveApply(1, 2, E(1, 2), chain2);
        c.ObserveApply(2, 1, E(1, 1), chain1);
        AssertViolation(ViolationKind.StateMachineSafety,
            () => c.ObserveApply(2, 2, E(2, 3), EntryId.Chain(chain1, 2, E(2, 3))));
        // Applying past what anyone applied, with a gap, is a violation too.
        AssertViolation(ViolationKind.StateMachineSafety, () => c.ObserveApply(3, 4, E(1, 4), 0));
    }

    [Fact]
    public void State_machine_safety_rejects_applying_an_entry_other_than_the_committed_one()
    {
        var c = new SafetyChecker();
        c.ObserveCommitted(1, term: 1, commit: 1, previousCommit: 0, Log(1, E(1, 1)));
        AssertViolation(ViolationKind.StateMachineSafety, () => c.ObserveApply(2, 1, E(1, 5), 0));
    }

    [Fact]
    public void Snapshots_must_carry_the_applied_history()
    {
        var c = new SafetyChecker();
        var chain1 = EntryId.Chain(0, 1, E(1, 1));
        c.ObserveApply(1, 1, E(1, 1), chain1);
        c.ObserveSnapshot(2, 1, chain1);
        c.ObserveSnapshot(2, 0, 0);
        AssertViolation(ViolationKind.StateMachineSafety, () => c.ObserveSnapshot(3, 1, chain1 + 1));
        AssertViolation(ViolationKind.StateMachineSafety, () => c.ObserveSnapshot(3, 2, chain1));
    }

    [Fact]
    public void Commit_index_never_decreases_while_up_nor_below_what_was_persisted()
    {
        var c = new SafetyChecker();
        Assert.Equal(0UL, c.ObserveCommitIndex(1, incarnation: 0, commit: 5));
        Assert.Equal(5UL, c.ObserveCommitIndex(1, incarnation: 0, commit: 7));
        AssertViolation(ViolationKind.CommitMonotonicity, () => c.ObserveCommitIndex(1, incarnation: 0, commit: 6));
        // After a restart the in-memory commit index may be lower (it was not all persisted)...
        c.ObservePersistedHardState(1, new HardState(2, 1, 4));
        c.ObserveCommitIndex(1, incarnation: 1, commit: 4);
        c.ObserveRestart(1, 4);
        // ...but never below what was persisted, and what is persisted never goes back.
        AssertViolation(ViolationKind.CommitMonotonicity, () => c.ObserveRestart(1, 3));
        AssertViolation(ViolationKind.CommitMonotonicity, () => c.ObservePersistedHardState(1, new HardState(2, 1, 2)));
    }

    [Fact]
    public void A_persisted_vote_never_changes_within_a_term_and_the_term_never_goes_back()
    {
        var c = new SafetyChecker();
        c.ObservePersistedHardState(1, new HardState(2, 0, 0));
        c.ObservePersistedHardState(1, new HardState(2, 3, 0)); // first vote in term 2
        c.ObservePersistedHardState(1, new HardState(2, 3, 1));
        c.ObservePersistedHardState(1, new HardState(3, 2, 1)); // new term, new vote
        AssertViolation(ViolationKind.ElectionSafety, () => c.ObservePersistedHardState(1, new HardState(3, 1, 1)));
        AssertViolation(ViolationKind.ElectionSafety, () => c.ObservePersistedHardState(1, new HardState(2, 3, 1)));
    }

    [Fact]
    public void A_read_index_must_cover_what_was_committed_when_the_read_was_issued()
    {
        SafetyChecker.CheckReadIndex(1, request: 1, readIndex: 10, committedAtIssue: 10);
        SafetyChecker.CheckReadIndex(1, request: 2, readIndex: 12, committedAtIssue: 10);
        AssertViolation(ViolationKind.Linearizability,
            () => SafetyChecker.CheckReadIndex(1, request: 3, readIndex: 9, committedAtIssue: 10));
    }

    [Fact]
    public void Liveness_requires_every_acknowledged_proposal_everywhere_and_one_applied_index()
    {
        var acked = new HashSet<int> { 1, 2, 3 };
        SafetyChecker.CheckAcknowledgedApplied(acked, [(1, 10, [1, 2, 3, 4]), (2, 10, [1, 2, 3, 4])]);
        AssertViolation(ViolationKind.Liveness,
            () => SafetyChecker.CheckAcknowledgedApplied(acked, [(1, 10, [1, 2, 3]), (2, 10, [1, 3])]));
        AssertViolation(ViolationKind.Liveness,
            () => SafetyChecker.CheckAcknowledgedApplied(acked, [(1, 10, [1, 2, 3]), (2, 9, [1, 2, 3])]));
    }

    [Fact]
    public void The_configuration_history_answers_the_configuration_as_of_an_applied_index()
    {
        var c = new SafetyChecker();
        var boot = ConfState.Of([1UL, 2, 3]);
        var joint = new ConfState { Voters = [1UL, 2, 4], VotersOutgoing = [1UL, 2, 3], AutoLeave = true };
        var after = ConfState.Of([1UL, 2, 4]);
        c.RecordConfig(0, boot);
        c.RecordConfig(10, joint);
        c.RecordConfig(12, after);
        Assert.Equal(boot, c.ConfigAt(0));
        Assert.Equal(boot, c.ConfigAt(9));
        Assert.Equal(joint, c.ConfigAt(10));
        Assert.Equal(joint, c.ConfigAt(11));
        Assert.Equal(after, c.ConfigAt(500));
        // Members must be where the history says, as must snapshots.
        c.CheckMemberConfig(1, 11, joint);
        c.CheckSnapshotConfig(1, 12, after);
        // A newcomer that knows nothing yet is exempt; one that applied something is not.
        c.CheckMemberConfig(4, 0, ConfState.Empty);
        AssertViolation(ViolationKind.MembershipSafety, () => c.CheckMemberConfig(2, 12, joint));
        AssertViolation(ViolationKind.MembershipSafety, () => c.CheckSnapshotConfig(2, 11, boot));
        AssertViolation(ViolationKind.SimulatorInvariant, () => c.RecordConfig(12, boot));
    }

    [Fact]
    public void A_leader_must_be_a_voter_of_its_configuration()
    {
        var joint = new ConfState { Voters = [1UL, 2, 4], VotersOutgoing = [1UL, 2, 3] };
        SafetyChecker.CheckLeaderIsVoter(3, term: 2, applied: 5, joint); // outgoing half only: still leads
        SafetyChecker.CheckLeaderIsVoter(4, term: 2, applied: 5, joint);
        AssertViolation(ViolationKind.MembershipSafety,
            () => SafetyChecker.CheckLeaderIsVoter(5, term: 2, applied: 5, ConfState.Of([1UL, 2, 4], [5UL])));
    }

    [Fact]
    public void A_commit_needs_a_durable_majority_of_both_halves_of_a_joint_configuration()
    {
        var simple = ConfState.Of([1UL, 2, 3], [4UL]);
        SafetyChecker.CheckCommitQuorum(1, term: 2, index: 7, entryTerm: 2, simple, id => id is 1 or 3);
        // Learners do not count.
        AssertViolation(ViolationKind.CommitQuorum,
            () => SafetyChecker.CheckCommitQuorum(1, term: 2, index: 7, entryTerm: 2, simple, id => id is 1 or 4));
        var joint = new ConfState { Voters = [1UL, 4, 5], VotersOutgoing = [1UL, 2, 3] };
        SafetyChecker.CheckCommitQuorum(1, term: 2, index: 7, entryTerm: 2, joint, id => id is 1 or 2 or 4);
        // A majority of the incoming half alone is not enough...
        var e = Assert.Throws<SafetyViolationException>(
            () => SafetyChecker.CheckCommitQuorum(1, term: 2, index: 7, entryTerm: 2, joint, id => id is 1 or 4 or 5));
        Assert.Equal(ViolationKind.CommitQuorum, e.Kind);
        Assert.Contains("outgoing voters", e.Message, StringComparison.Ordinal);
        // ...nor of the outgoing one.
        AssertViolation(ViolationKind.CommitQuorum,
            () => SafetyChecker.CheckCommitQuorum(1, term: 2, index: 7, entryTerm: 2, joint, id => id is 1 or 2 or 3));
    }
}
