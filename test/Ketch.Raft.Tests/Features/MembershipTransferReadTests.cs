using Ketch.Raft.Tests.Paper;
using Xunit;

namespace Ketch.Raft.Tests.Features;

/// <summary>End-to-end checks of membership changes, leadership transfer and read index on the
/// in-order test network. The interaction scripts trace the same features message by message.</summary>
public class MembershipTransferReadTests
{
    private static TestNetwork ThreeWithLeader(ReadOnlyOption readOnly = ReadOnlyOption.Safe, bool checkQuorum = false)
    {
        var net = new TestNetwork(3, readOnly: readOnly, checkQuorum: checkQuorum);
        net.Campaign(1);
        Assert.Equal(1UL, net.Leader());
        return net;
    }

    [Fact]
    public void AddAVoterThenRemoveIt()
    {
        var net = ThreeWithLeader();
        net.AddMember(4);
        Assert.Equal(StepResult.Ok, net.Nodes[1].ProposeConfChange(new ConfChange(ConfChangeType.AddNode, 4)));
        net.Run();
        net.Join();
        Assert.All(new ulong[] { 1, 2, 3, 4 }, id => Assert.Equal([1UL, 2, 3, 4], net.Nodes[id].Status().Config.Voters));
        net.Propose(1, "after-add");
        Assert.Contains("after-add", TestNetwork.Payloads(net.Applied[4]));

        Assert.Equal(StepResult.Ok, net.Nodes[1].ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 4)));
        net.Run();
        Assert.Equal([1UL, 2, 3], net.Nodes[1].Status().Config.Voters);
    }

    [Fact]
    public void ASecondChangeWhileOneIsUnappliedIsRefused()
    {
        var net = ThreeWithLeader();
        var leader = net.Nodes[1];
        Assert.Equal(StepResult.Ok, leader.ProposeConfChange(new ConfChange(ConfChangeType.AddLearnerNode, 4)));
        Assert.Equal(StepResult.Ok, leader.ProposeConfChange(new ConfChange(ConfChangeType.AddLearnerNode, 5)));
        net.Run();
        // The second became an empty entry: only 4 joined.
        Assert.Equal([4UL], leader.Status().Config.Learners);
    }

    [Fact]
    public void JointConsensusReplacesTheLeaderAndLeavesAutomatically()
    {
        var net = ThreeWithLeader();
        // 4 joins as a learner first, so it is up to date when it starts to vote.
        net.AddMember(4);
        net.Nodes[1].ProposeConfChange(new ConfChange(ConfChangeType.AddLearnerNode, 4));
        net.Run();
        net.Join();
        var cc = new ConfChangeV2(ConfChangeTransition.Auto,
            [new ConfChangeSingle(ConfChangeType.AddNode, 4), new ConfChangeSingle(ConfChangeType.RemoveNode, 1)]);
        Assert.Equal(StepResult.Ok, net.Nodes[1].ProposeConfChange(cc));
        net.Run();
        // Joint (2 3 4)&&(1 2 3) was entered, then left on its own: 1 is out and stepped down.
        var config = net.Nodes[2].Status().Config;
        Assert.Equal([2UL, 3, 4], config.Voters);
        Assert.Empty(config.VotersOutgoing);
        Assert.NotEqual(StateType.Leader, net.Raft(1).State);
        // The remaining members elect a leader and keep committing.
        net.Campaign(2);
        net.Propose(2, "after-replace");
        Assert.All(new ulong[] { 2, 3, 4 }, id => Assert.Contains("after-replace", TestNetwork.Payloads(net.Applied[id])));
    }

    [Fact]
    public void TwoVoterChangesWithoutJointAreRefused()
    {
        var cs = ConfState.Of([1UL, 2, 3]);
        var ex = Assert.Throws<ConfChangeException>(() => Changer.Simple(cs,
            [new ConfChangeSingle(ConfChangeType.AddNode, 4), new ConfChangeSingle(ConfChangeType.AddNode, 5)]));
        Assert.Contains("more than one voter changed", ex.Message);
        Assert.Throws<ConfChangeException>(() => Changer.LeaveJoint(cs));
        Assert.Throws<ConfChangeException>(() => Changer.Simple(cs, [new ConfChangeSingle(ConfChangeType.RemoveNode, 1),
            new ConfChangeSingle(ConfChangeType.RemoveNode, 2), new ConfChangeSingle(ConfChangeType.RemoveNode, 3)]));
    }

    [Fact]
    public void LearnerCatchesUpAndIsPromoted()
    {
        var net = ThreeWithLeader();
        for (var i = 0; i < 5; i++)
        {
            net.Propose(1, $"before-{i}");
        }
        net.AddMember(4);
        net.Nodes[1].ProposeConfChange(new ConfChange(ConfChangeType.AddLearnerNode, 4));
        net.Run();
        net.Join();
        Assert.Equal([4UL], net.Nodes[1].Status().Config.Learners);
        // The learner got the state through the snapshot and holds the leader's log from there on.
        Assert.Equal(net.Raft(1).Log.LastIndex(), net.Raft(4).Log.LastIndex());
        Assert.Equal(net.Raft(1).Log.Committed, net.Raft(4).Log.Committed);
        // A learner never campaigns.
        net.Tick(4, 50);
        Assert.Equal(1UL, net.Leader());
        net.Nodes[1].ProposeConfChange(new ConfChange(ConfChangeType.AddNode, 4));
        net.Run();
        net.Tick(1, 1);
        Assert.Equal([1UL, 2, 3, 4], net.Nodes[4].Status().Config.Voters);
    }

    [Fact]
    public void TransferToAnUpToDateFollower()
    {
        var net = ThreeWithLeader();
        net.Propose(1, "x");
        net.Nodes[1].TransferLeadership(3);
        net.Run();
        Assert.Equal(3UL, net.Leader());
        Assert.Equal(StateType.Follower, net.Raft(1).State);
    }

    [Fact]
    public void TransferToALaggingFollowerCatchesItUpFirst()
    {
        var net = ThreeWithLeader();
        net.Isolate(3);
        net.Propose(1, "missed");
        net.Heal();
        net.Nodes[1].TransferLeadership(3);
        net.Run();
        Assert.Equal(3UL, net.Leader());
        Assert.Contains("missed", TestNetwork.Payloads(net.Applied[3]));
    }

    [Fact]
    public void ProposalsAreDroppedDuringATransferAndTheTransferAbortsAfterATimeout()
    {
        var net = ThreeWithLeader();
        net.Isolate(3);
        net.Nodes[1].TransferLeadership(3);
        net.Run();
        Assert.Equal(3UL, net.Raft(1).LeadTransferee);
        Assert.Equal(StepResult.ProposalDropped, net.Nodes[1].Propose("during"u8.ToArray()));
        net.Tick(1, 10);
        Assert.Equal(0UL, net.Raft(1).LeadTransferee);
        Assert.Equal(1UL, net.Leader());
        Assert.Equal(StepResult.Ok, net.Nodes[1].Propose("after"u8.ToArray()));
    }

    [Theory]
    [InlineData(ReadOnlyOption.Safe, 1UL)]
    [InlineData(ReadOnlyOption.Safe, 2UL)]
    [InlineData(ReadOnlyOption.LeaseBased, 1UL)]
    [InlineData(ReadOnlyOption.LeaseBased, 3UL)]
    public void ReadIndexAnswersWithTheCommitIndex(ReadOnlyOption option, ulong reader)
    {
        var net = ThreeWithLeader(option, checkQuorum: option == ReadOnlyOption.LeaseBased);
        net.Propose(1, "w");
        var committed = net.Raft(1).Log.Committed;
        Assert.Equal(StepResult.Ok, net.Nodes[reader].ReadIndex("r1"u8.ToArray()));
        net.Run();
        var (id, rs) = Assert.Single(net.ReadStates);
        Assert.Equal(reader, id);
        Assert.Equal(committed, rs.Index);
        Assert.Equal("r1"u8.ToArray(), rs.RequestContext.ToArray());
    }

    [Fact]
    public void SafeReadsAreBatchedOnOneHeartbeatRound()
    {
        var net = ThreeWithLeader();
        net.Isolate(2);
        net.Isolate(3);
        net.Nodes[1].ReadIndex("a"u8.ToArray());
        net.Nodes[1].ReadIndex("b"u8.ToArray());
        net.Run();
        Assert.Empty(net.ReadStates); // no quorum has confirmed leadership yet
        net.Heal();
        net.Delivered.Clear();
        net.Tick(1, 1); // one heartbeat round carrying the newest read's context
        Assert.Equal(["a", "b"], net.ReadStates.Select(r => System.Text.Encoding.UTF8.GetString(r.State.RequestContext.Span)));
    }

    [Fact]
    public void ADeposedLeadersReadIsNeverAnswered()
    {
        var net = ThreeWithLeader();
        net.Isolate(1);
        net.Nodes[1].ReadIndex("stale"u8.ToArray());
        net.Run();
        net.Tick(1, 1); // heartbeats carrying the read's context are lost
        net.Campaign(2); // 2 and 3 move on at a higher term
        net.Heal();
        net.Tick(1, 1); // 2 and 3 ignore the stale leader's heartbeats: no acknowledgement
        net.Tick(2, 1); // 1 learns the new term from the new leader and steps down
        Assert.Equal(StateType.Follower, net.Raft(1).State);
        Assert.DoesNotContain(net.ReadStates, r => r.State.RequestContext.Span.SequenceEqual("stale"u8));
    }

    [Fact]
    public void ANewLeaderHoldsReadsUntilItCommitsAnEntryOfItsTerm()
    {
        var net = new TestNetwork(3);
        var r = net.Raft(1);
        // Win an election whose no-op entry cannot commit yet (the links are cut).
        net.Cut(1, 2);
        net.Cut(1, 3);
        r.Campaign(CampaignType.Election);
        r.Step(new Message { Type = MessageType.VoteResp, From = 2, To = 1, Term = r.Term });
        net.Run();
        Assert.Equal(StateType.Leader, r.State);
        net.Nodes[1].ReadIndex("early"u8.ToArray());
        net.Run();
        Assert.Empty(net.ReadStates);
        net.Heal();
        net.Tick(1, 1);
        Assert.Single(net.ReadStates);
        Assert.Equal(r.Log.Committed, net.ReadStates[0].State.Index);
    }
}
