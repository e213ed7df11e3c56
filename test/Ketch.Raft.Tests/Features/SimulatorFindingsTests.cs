using Ketch.Raft.Tests.Paper;
using Xunit;

namespace Ketch.Raft.Tests.Features;

/// <summary>Regression tests for liveness bugs the cluster simulator (src/Ketch.Sim, with
/// membership changes) found in the core, each reduced to the few steps that trigger it.</summary>
public class SimulatorFindingsTests
{
    [Fact]
    public void AutoLeaveDroppedByATransferIsRetriedOnceTheTransferAborts()
    {
        var net = new TestNetwork(4);
        net.Campaign(1);
        Assert.Equal(1UL, net.Leader());
        // 3 is cut off, so a transfer to it stays in progress until the election timeout.
        net.Isolate(3);
        var cc = new ConfChangeV2(ConfChangeTransition.Auto,
            [new ConfChangeSingle(ConfChangeType.AddLearnerNode, 3), new ConfChangeSingle(ConfChangeType.AddLearnerNode, 4)]);
        Assert.Equal(StepResult.Ok, net.Nodes[1].ProposeConfChange(cc));
        net.Nodes[1].TransferLeadership(3);
        net.Run();
        // The joint configuration was entered while the transfer refused every proposal,
        // including the automatic leave.
        var config = net.Nodes[1].Status().Config;
        Assert.Equal([1UL, 2], config.Voters);
        Assert.Equal([1UL, 2, 3, 4], config.VotersOutgoing);
        Assert.True(config.AutoLeave);
        Assert.Equal(3UL, net.Raft(1).LeadTransferee);
        // The transfer times out; the idle leader must still leave the joint configuration.
        net.Tick(1, 10);
        Assert.Equal(0UL, net.Raft(1).LeadTransferee);
        Assert.Equal(1UL, net.Leader());
        config = net.Nodes[1].Status().Config;
        Assert.Empty(config.VotersOutgoing);
        Assert.Equal([1UL, 2], config.Voters);
        Assert.Equal([3UL, 4], config.Learners);
    }

    [Fact]
    public void AMemberThatCannotCampaignAnswersALeaderOfALowerTerm()
    {
        // Neither check-quorum nor pre-vote: a follower with a higher term normally ignores the
        // leader and campaigns itself, which a learner never does.
        var net = new TestNetwork(3);
        net.Campaign(1);
        net.AddMember(4);
        net.Nodes[1].ProposeConfChange(new ConfChange(ConfChangeType.AddLearnerNode, 4));
        net.Run();
        net.Join();
        Assert.Equal(1UL, net.Raft(4).Lead);
        var term = net.Raft(1).Term;
        // A removed member that does not know it was removed (id 9) campaigns at a higher term;
        // the learner, whose log is behind, still moves to that term.
        net.Send(TestNetwork.Vote(from: 9, to: 4, term: term + 5, lastIndex: 1000, lastTerm: term + 4));
        Assert.Equal(term + 5, net.Raft(4).Term);
        // The leader's next heartbeat is answered with the higher term: the leader steps down,
        // a new election raises every term, and the learner follows the new leader.
        net.Tick(1, 1);
        Assert.NotEqual(StateType.Leader, net.Raft(1).State);
        for (var i = 0; i < 10 && net.Leader() is null; i++)
        {
            net.Tick(1, 5);
            net.Tick(2, 5);
        }
        var leader = net.Leader();
        Assert.NotNull(leader);
        Assert.True(net.Raft(leader.Value).Term > term + 5);
        Assert.Equal(leader.Value, net.Raft(4).Lead);
        net.Propose(leader.Value, "after");
        Assert.Contains("after", TestNetwork.Payloads(net.Applied[4]));
    }

    [Fact]
    public void AVoteRequestOfALowerTermIsRejectedWithTheHigherTerm()
    {
        // Raft figure 2: the candidate learns the voter's term from the rejection. Without it a
        // candidate the voter never campaigns to (it is not in the voter's stale configuration)
        // could stay below the voter's term for good.
        var net = new TestNetwork(3);
        net.Isolate(3);
        net.Send(TestNetwork.Vote(from: 9, to: 2, term: 20, lastIndex: 0, lastTerm: 0));
        Assert.Equal(20UL, net.Raft(2).Term);
        net.Campaign(1);
        Assert.Equal(20UL, net.Raft(1).Term);
        Assert.Equal(StateType.Follower, net.Raft(1).State);
        Assert.Contains(net.Delivered, m => m.Type == MessageType.VoteResp && m.From == 2 && m.To == 1 && m.Reject && m.Term == 20);
    }

    /// <summary>
    /// Simulator seed 151855 (--membership, 5 members): a duplicated, delayed read request was
    /// queued again behind a newer read, and acknowledgements of its first heartbeat round
    /// completed the copy — answering the newer read without any heartbeat sent after it
    /// arrived. Rounds now carry their own ids, so old acknowledgements match nothing.
    /// </summary>
    [Fact]
    public void AcknowledgementsOfAnOldReadRoundNeverAnswerANewerRead()
    {
        var net = new TestNetwork(3);
        net.Campaign(1);
        net.Propose(1, "w");
        var r = net.Raft(1);
        var first = new Message { Type = MessageType.ReadIndex, From = 2, To = 1, Context = "r24"u8.ToArray() };
        r.Step(first);
        var (heartbeats, _) = r.TakeMessages();
        var oldRound = heartbeats.First(m => m.Type == MessageType.Heartbeat).Context;
        // 2 acknowledges: with the leader itself a quorum, r24 is answered.
        r.Step(new Message { Type = MessageType.HeartbeatResp, From = 2, To = 1, Term = r.Term, Context = oldRound });
        var (answers, _) = r.TakeMessages();
        Assert.Contains(answers, m => m.Type == MessageType.ReadIndexResp && m.Context.Span.SequenceEqual("r24"u8));

        // A newer read arrives, then the duplicate of r24, queued behind it.
        r.Step(new Message { Type = MessageType.ReadIndex, From = 3, To = 1, Context = "r36"u8.ToArray() });
        r.Step(first);
        r.TakeMessages();
        // 3's delayed acknowledgement of the first round must not answer anything.
        r.Step(new Message { Type = MessageType.HeartbeatResp, From = 3, To = 1, Term = r.Term, Context = oldRound });
        var (late, after) = r.TakeMessages();
        Assert.DoesNotContain(late.Concat(after), m => m.Type == MessageType.ReadIndexResp);
    }
}
