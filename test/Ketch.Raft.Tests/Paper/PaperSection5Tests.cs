using Ketch.Raft.Quorum;
using Xunit;

namespace Ketch.Raft.Tests.Paper;

/// <summary>
/// The claims of section 5 of the Raft paper (Ongaro and Ousterhout, "In Search of an
/// Understandable Consensus Algorithm", 2014), one test per claim, named after the section.
/// </summary>
public class PaperSection5Tests
{
    // §5.1: "When servers start up, they begin as followers."
    [Fact]
    public void S5_1_MembersStartAsFollowers()
    {
        var net = new TestNetwork(3);
        Assert.All(net.Nodes.Values, n => Assert.Equal(StateType.Follower, n.Status().SoftState.RaftState));
        Assert.All(net.Nodes.Values, n => Assert.Equal(0UL, n.Status().HardState.Term));
    }

    // §5.1: "If a server receives a request with a stale term number, it rejects the request."
    [Fact]
    public void S5_1_StaleTermRequestsAreRejected()
    {
        var net = new TestNetwork(3);
        net.Campaign(1);
        net.Campaign(2); // term 2, member 2 leads; member 1 is now a follower at term 2.
        Assert.Equal(2UL, net.Leader());
        var before = net.Raft(3).Log.LastIndex();
        // A stale leader of term 1 tries to append.
        net.Send(new Message
        {
            Type = MessageType.App, From = 1, To = 3, Term = 1, Index = before, LogTerm = 1,
            Entries = new[] { new Entry(1, before + 1, EntryType.Normal, "stale"u8.ToArray()) },
        });
        Assert.Equal(before, net.Raft(3).Log.LastIndex());
        // A stale vote request is not granted.
        net.Delivered.Clear();
        net.Send(TestNetwork.Vote(1, 3, 1, 100, 1));
        Assert.DoesNotContain(net.Delivered, m => m.Type == MessageType.VoteResp && !m.Reject);
        Assert.Equal(2UL, net.Raft(3).Term);
    }

    // §5.1: "If a candidate or leader discovers that its term is out of date, it immediately
    // reverts to follower state."
    [Theory]
    [InlineData(StateType.Follower)]
    [InlineData(StateType.Candidate)]
    [InlineData(StateType.Leader)]
    public void S5_1_HigherTermRevertsAnyRoleToFollower(StateType role)
    {
        var net = new TestNetwork(3);
        net.Isolate(1);
        if (role == StateType.Candidate)
        {
            net.Campaign(1);
        }
        else if (role == StateType.Leader)
        {
            net.Heal();
            net.Campaign(1);
            net.Isolate(1);
        }
        Assert.Equal(role, net.Raft(1).State);
        var term = net.Raft(1).Term;
        net.Heal();
        net.Send(new Message { Type = MessageType.Heartbeat, From = 2, To = 1, Term = term + 5 });
        Assert.Equal(StateType.Follower, net.Raft(1).State);
        Assert.Equal(term + 5, net.Raft(1).Term);
        Assert.Equal(2UL, net.Raft(1).Lead);
    }

    // §5.2: "If a follower receives no communication over a period of time called the election
    // timeout, then it ... begins an election": it increments its term, votes for itself and
    // asks every other member for its vote.
    [Fact]
    public void S5_2_FollowerCampaignsAfterElectionTimeout()
    {
        var net = new TestNetwork(3);
        net.Isolate(1);
        net.Tick(1, 2 * 10);
        var r = net.Raft(1);
        Assert.Equal(StateType.Candidate, r.State);
        Assert.Equal(1UL, r.Term);
        Assert.Equal(1UL, r.Vote);
        // On a connected network the same timeout sends a vote request to every other member.
        var net2 = new TestNetwork(3);
        net2.Tick(1, 2 * 10);
        var votes = net2.Delivered.Where(m => m.Type == MessageType.Vote && m.From == 1).Select(m => m.To).Order();
        Assert.Equal([2UL, 3UL], votes);
    }

    // §5.2: "election timeouts are chosen randomly from a fixed interval" — here
    // [electionTicks, 2 × electionTicks).
    [Fact]
    public void S5_2_ElectionTimeoutIsRandomizedWithinOneToTwoTimeouts()
    {
        var seen = new HashSet<int>();
        for (ulong seed = 0; seed < 200; seed++)
        {
            var raft = new RawNode(new RaftConfig
            {
                Id = 1,
                Storage = Storage.MemoryStorage.WithMembers([1UL, 2UL, 3UL]),
                ElectionTicks = 10,
                RandomSeed = seed,
            }).Raft;
            Assert.InRange(raft.RandomizedElectionTimeout, 10, 19);
            seen.Add(raft.RandomizedElectionTimeout);
        }
        Assert.True(seen.Count >= 8, $"only {seen.Count} distinct timeouts over 200 seeds");
    }

    // §5.2: "A candidate wins an election if it receives votes from a majority ... Once a
    // candidate wins an election, it becomes leader. It then sends heartbeat messages to all of
    // the other servers to establish its authority."
    [Fact]
    public void S5_2_CandidateWithMajorityLeadsAndAssertsAuthority()
    {
        var net = new TestNetwork(5);
        net.Isolate(4);
        net.Isolate(5);
        net.Campaign(1);
        Assert.Equal(StateType.Leader, net.Raft(1).State);
        Assert.Equal(1UL, net.Raft(2).Lead);
        Assert.Equal(1UL, net.Raft(3).Lead);
        Assert.Contains(net.Delivered, m => m.From == 1 && m.Type == MessageType.App && m.To == 2);
    }

    // §5.2: "If the leader's term ... is at least as large as the candidate's current term,
    // then the candidate recognizes the leader as legitimate and returns to follower state."
    [Fact]
    public void S5_2_CandidateStepsDownForLeaderOfSameTerm()
    {
        var net = new TestNetwork(3);
        net.Isolate(3);
        net.Campaign(3); // candidate at term 1, alone
        Assert.Equal(StateType.Candidate, net.Raft(3).State);
        net.Heal();
        net.Send(new Message { Type = MessageType.App, From = 1, To = 3, Term = 1, Index = 0, LogTerm = 0 });
        Assert.Equal(StateType.Follower, net.Raft(3).State);
        Assert.Equal(1UL, net.Raft(3).Lead);
    }

    // §5.2: a candidate that neither wins nor loses "will time out and start a new election by
    // incrementing its term".
    [Fact]
    public void S5_2_CandidateWithoutMajorityStartsANewElectionAfterTimeout()
    {
        var net = new TestNetwork(3);
        net.Isolate(1);
        net.Campaign(1);
        Assert.Equal((StateType.Candidate, 1UL), (net.Raft(1).State, net.Raft(1).Term));
        net.Tick(1, 2 * 10);
        Assert.Equal((StateType.Candidate, 2UL), (net.Raft(1).State, net.Raft(1).Term));
    }

    // §5.2: "Each server will vote for at most one candidate in a given term, on a
    // first-come-first-served basis."
    [Fact]
    public void S5_2_AtMostOneVotePerTermFirstComeFirstServed()
    {
        var net = new TestNetwork(3);
        net.Send(TestNetwork.Vote(2, 1, 1, 0, 0));
        net.Send(TestNetwork.Vote(3, 1, 1, 0, 0));
        net.Send(TestNetwork.Vote(2, 1, 1, 0, 0)); // a retransmission is answered the same way
        var answers = net.Delivered.Where(m => m.Type == MessageType.VoteResp && m.From == 1).ToList();
        Assert.Equal([(2UL, false), (3UL, true), (2UL, false)], answers.Select(m => (m.To, m.Reject)));
        Assert.Equal(2UL, net.Raft(1).Vote);
    }

    // §5.3: "When the entry has been safely replicated ... the leader applies the entry to its
    // state machine"; an entry is committed "once the leader that created the entry has
    // replicated it on a majority of the servers".
    [Fact]
    public void S5_3_EntriesCommitOnAMajorityAndNotBefore()
    {
        var net = new TestNetwork(5);
        net.Campaign(1);
        net.Isolate(4);
        net.Isolate(5);
        net.Propose(1, "x"); // on 1, 2, 3: a majority of 5
        Assert.Contains("x", TestNetwork.Payloads(net.Applied[1]));
        net.Isolate(3);
        net.Propose(1, "y"); // only on 1 and 2
        Assert.DoesNotContain("y", TestNetwork.Payloads(net.Applied[1]));
        Assert.True(net.Raft(1).Log.LastIndex() > net.Raft(1).Log.Committed);
        net.Heal();
        net.Tick(1, 1); // a heartbeat round reconnects the followers
        Assert.All(net.Nodes.Keys, id => Assert.Equal(["x", "y"], TestNetwork.Payloads(net.Applied[id])));
    }

    // §5.3: "the follower ... applies the entry to its local state machine (in log order)".
    [Fact]
    public void S5_3_EveryMemberAppliesTheSameEntriesInLogOrder()
    {
        var net = new TestNetwork(3);
        net.Campaign(1);
        for (var i = 0; i < 20; i++)
        {
            net.Propose((ulong)(i % 3) + 1, $"p{i}"); // followers forward to the leader
        }
        var expected = Enumerable.Range(0, 20).Select(i => $"p{i}");
        Assert.All(net.Nodes.Keys, id => Assert.Equal(expected, TestNetwork.Payloads(net.Applied[id])));
        Assert.All(net.Nodes.Keys, id =>
            Assert.Equal(net.Applied[1].Select(e => (e.Index, e.Term)), net.Applied[id].Select(e => (e.Index, e.Term))));
    }

    // §5.3: "If the follower does not find an entry in its log with the same index and term,
    // then it refuses the new entries."
    [Fact]
    public void S5_3_ConsistencyCheckRefusesAppendWithoutMatchingPrefix()
    {
        var net = new TestNetwork(3, logs: id => (id == 3 ? [1UL] : [1UL, 1, 1], 1));
        net.Isolate(2);
        net.Isolate(1);
        net.Send(new Message
        {
            Type = MessageType.App, From = 1, To = 3, Term = 1, Index = 3, LogTerm = 1,
            Entries = new[] { new Entry(1, 4, EntryType.Normal, "z"u8.ToArray()) },
        });
        Assert.Equal(1UL, net.Raft(3).Log.LastIndex());
    }

    // §5.3: "If an existing entry conflicts with a new one (same index but different terms),
    // delete the existing entry and all that follow it"; the leader finds the last agreeing
    // entry by moving nextIndex back after rejections (figure 7).
    [Fact]
    public void S5_3_LeaderForcesFollowersToDuplicateItsLog()
    {
        // Member 3 has a divergent suffix from terms 2 and 3 that was never committed; 1 and 2
        // hold a longer log of term 4 entries.
        var net = new TestNetwork(3, logs: id => id == 3 ? ([1UL, 2, 2, 3, 3, 3, 3], 3) : ([1UL, 1, 4, 4, 4], 4));
        net.Campaign(1);
        Assert.Equal(StateType.Leader, net.Raft(1).State);
        net.Propose(1, "after");
        var leaderLog = Log(net, 1);
        Assert.Equal(leaderLog, Log(net, 2));
        Assert.Equal(leaderLog, Log(net, 3));
        // Fast backtracking: the rejections carried hints, so the leader needed fewer probes
        // than the length of the divergent suffix.
        var rejections = net.Delivered.Count(m => m.Type == MessageType.AppResp && m.Reject && m.From == 3);
        Assert.InRange(rejections, 1, 3);
    }

    // §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the
    // candidate": a higher last term wins; with equal last terms, the longer log wins.
    [Theory]
    [InlineData(2UL, 3UL, false)] // candidate's last term lower
    [InlineData(3UL, 2UL, false)] // same last term, shorter log
    [InlineData(3UL, 3UL, true)]  // same last term, same length
    [InlineData(4UL, 1UL, true)]  // higher last term, shorter log
    public void S5_4_1_VoteOnlyForAtLeastAsUpToDateLogs(ulong candidateLastTerm, ulong candidateLastIndex, bool granted)
    {
        var net = new TestNetwork(3, logs: _ => ([1UL, 3, 3], 3));
        net.Send(TestNetwork.Vote(2, 1, 5, candidateLastIndex, candidateLastTerm));
        var answer = Assert.Single(net.Delivered, m => m.Type == MessageType.VoteResp && m.From == 1);
        Assert.Equal(!granted, answer.Reject);
    }

    // §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only
    // log entries from the leader's current term are committed by counting replicas."
    [Fact]
    public void S5_4_2_OldTermEntriesAreNotCommittedByCountingReplicas()
    {
        // Member 1 has an entry of term 2 at index 2 that no one else has (figure 8 (b)).
        var net = new TestNetwork(3, logs: id => (id == 1 ? [1UL, 2] : [1UL], 2));
        net.Isolate(1);
        net.Heal();
        var r = net.Raft(1);
        // Win term 3 by votes alone, without letting the new leader's empty entry replicate.
        net.Cut(1, 2);
        net.Cut(1, 3);
        r.Campaign(CampaignType.Election);
        r.Step(new Message { Type = MessageType.VoteResp, From = 2, To = 1, Term = r.Term });
        Assert.Equal(StateType.Leader, r.State);
        Assert.Equal(3UL, r.Log.LastIndex()); // [1/1, 2/2, 3/3 empty]
        net.Run(); // persist the leader's entry; its messages are lost on the cut links
        // Member 2 acknowledges index 2 (the old-term entry): a majority holds it, yet it is
        // not committed, because its term is not the leader's.
        r.Step(new Message { Type = MessageType.AppResp, From = 2, To = 1, Term = r.Term, Index = 2 });
        Assert.Equal(0UL, r.Log.Committed);
        // Once the current-term entry at 3 is on a majority, 3 commits — and 2 with it.
        r.Step(new Message { Type = MessageType.AppResp, From = 2, To = 1, Term = r.Term, Index = 3 });
        Assert.Equal(3UL, r.Log.Committed);
    }

    // §5.4.2, figure 8 end to end: a leader that replicated an old-term entry to a majority and
    // crashed before committing an entry of its own term can see that entry overwritten, and
    // no member ever applied it.
    [Fact]
    public void S5_4_2_Figure8UncommittedOldTermEntryMayBeReplacedButNeverApplied()
    {
        var net = new TestNetwork(5, logs: id => id switch
        {
            1 => ([1UL, 2], 4),
            2 => ([1UL, 2], 4),
            5 => ([1UL, 3], 4),
            _ => ([1UL], 4),
        });
        // Member 5 (last term 3) wins with votes from 3 and 4 (shorter logs) and itself.
        net.Isolate(1);
        net.Isolate(2);
        net.Campaign(5);
        Assert.Equal(StateType.Leader, net.Raft(5).State);
        net.Heal();
        net.Propose(5, "new");
        net.Tick(5, 1); // the probes to 1 and 2 were lost; a heartbeat round resumes them
        // Every member now holds member 5's entry at index 2; the term-2 entry is gone and was
        // never applied anywhere.
        Assert.All(net.Nodes.Keys, id => Assert.Equal(3UL, net.Raft(id).Log.TermOrZero(2)));
        Assert.All(net.Applied.Values, applied => Assert.DoesNotContain(applied, e => e.Term == 2));
    }

    // §5.5: "Raft RPCs are idempotent, so this causes no harm": a duplicated AppendEntries
    // leaves the follower's log and commit index as the first one did.
    [Fact]
    public void S5_5_DuplicateAppendEntriesHaveNoEffect()
    {
        var net = new TestNetwork(3);
        net.Campaign(1);
        net.Propose(1, "a");
        var app = net.Delivered.Last(m => m.Type == MessageType.App && m.To == 2 && !m.Entries.IsEmpty);
        var log = Log(net, 2);
        var commit = net.Raft(2).Log.Committed;
        net.Send(app);
        net.Send(app);
        Assert.Equal(log, Log(net, 2));
        Assert.Equal(commit, net.Raft(2).Log.Committed);
        Assert.Equal(["a"], TestNetwork.Payloads(net.Applied[2]));
    }

    // §5.2 with §5.3: the quorum arithmetic behind "majority" — a sanity check of the joint
    // form with an empty outgoing half, which every simple configuration uses.
    [Fact]
    public void S5_2_MajorityOfFiveNeedsThree()
    {
        var cfg = new JointConfig(new MajorityConfig([1UL, 2, 3, 4, 5]), MajorityConfig.Empty);
        Assert.Equal(VoteResult.Pending, cfg.Tally(new Dictionary<ulong, bool> { [1] = true, [2] = true }));
        Assert.Equal(VoteResult.Won, cfg.Tally(new Dictionary<ulong, bool> { [1] = true, [2] = true, [3] = true }));
        Assert.Equal(VoteResult.Lost, cfg.Tally(new Dictionary<ulong, bool> { [1] = false, [2] = false, [3] = false }));
    }

    private static List<(ulong, ulong)> Log(TestNetwork net, ulong id)
    {
        var log = net.Raft(id).Log;
        var r = log.Slice(log.FirstIndex(), log.LastIndex() + 1, long.MaxValue);
        return r.Value.ToArray().Select(e => (e.Index, e.Term)).ToList();
    }
}
