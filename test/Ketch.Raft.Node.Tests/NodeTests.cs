using System.Text;
using Ketch.Raft.Storage;
using Xunit;

namespace Ketch.Raft.NodeTests;

public class NodeTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ConcurrentProposersLoseNothingAndNothingIsAppliedTwice()
    {
        await using var cluster = new NodeCluster(3);
        await cluster.Nodes[1].CampaignAsync();
        await NodeCluster.WaitUntilAsync(() => IsLeader(cluster.Nodes[1]), Deadline, "member 1 to lead");
        // A follower that has not yet heard from the new leader drops proposals (it has nowhere to
        // forward them): wait until every member knows member 1 leads.
        await NodeCluster.WaitUntilAsync(() => cluster.Nodes.Values.All(n => n.StatusAsync().GetAwaiter().GetResult().SoftState.Lead == 1),
            Deadline, "every member to know member 1 leads");

        const int proposers = 8, perProposer = 150;
        var accepted = new System.Collections.Concurrent.ConcurrentBag<string>();
        var tasks = Enumerable.Range(0, proposers).Select(p => Task.Run(async () =>
        {
            var rng = new Random(p);
            for (var i = 0; i < perProposer; i++)
            {
                var payload = $"p{p}-{i}";
                // Propose to any member: followers forward to the leader.
                var member = cluster.Nodes[(ulong)rng.Next(1, 4)];
                var result = await member.ProposeAsync(System.Text.Encoding.UTF8.GetBytes(payload));
                Assert.Equal(StepResult.Ok, result);
                accepted.Add(payload);
            }
        })).ToArray();
        await Task.WhenAll(tasks);

        var expected = accepted.ToHashSet();
        Assert.Equal(proposers * perProposer, expected.Count);
        await NodeCluster.WaitUntilAsync(
            () => cluster.Applied.Values.All(q => Payloads(q).Count(expected.Contains) == expected.Count),
            Deadline, "every member to apply every proposal");
        Assert.Empty(cluster.Errors);
        var order = Payloads(cluster.Applied[1]).ToList();
        foreach (var (_, applied) in cluster.Applied)
        {
            var payloads = Payloads(applied).ToList();
            Assert.Equal(payloads.Count, payloads.Distinct().Count()); // nothing applied twice
            Assert.Equal(order, payloads);                              // same order everywhere
        }
    }

    [Fact]
    public async Task TicksElectASingleMember()
    {
        var storage = MemoryStorage.WithMembers([1UL]);
        await using var node = Ketch.Raft.Node.Start(new RaftConfig { Id = 1, Storage = storage, ElectionTicks = 3 });
        var consumer = Task.Run(async () =>
        {
            await foreach (var rd in node.Ready.ReadAllAsync())
            {
                storage.Append(rd.Entries);
                if (rd.HardState is { } hs)
                {
                    storage.SetHardState(hs);
                }
                node.Advance();
            }
        });
        for (var i = 0; i < 6; i++)
        {
            node.Tick();
        }
        await NodeCluster.WaitUntilAsync(() => IsLeader(node), Deadline, "the member to elect itself");
        await node.StopAsync();
        await consumer;
    }

    [Fact]
    public async Task ReadysComeOneAtATimeUntilAdvanced()
    {
        var storage = MemoryStorage.WithMembers([1UL]);
        await using var node = Ketch.Raft.Node.Start(new RaftConfig { Id = 1, Storage = storage });
        await node.CampaignAsync();
        var first = await node.Ready.ReadAsync();
        Assert.NotNull(first.HardState);
        // More work arrives while the Ready is outstanding: no second Ready until Advance.
        await node.StepAsync(new Message { Type = MessageType.Heartbeat, From = 9, To = 1, Term = 0 });
        Assert.False(node.Ready.TryRead(out _));
        storage.Append(first.Entries);
        storage.SetHardState(first.HardState!.Value);
        node.Advance();
        var second = await node.Ready.ReadAsync();
        // The leader's own entry became durable with the first Ready; it now commits.
        Assert.False(second.CommittedEntries.IsEmpty);
    }

    [Fact]
    public async Task StoppingFailsPendingAndLaterRequests()
    {
        var node = Ketch.Raft.Node.Start(new RaftConfig { Id = 1, Storage = MemoryStorage.WithMembers([1UL]) });
        await node.StopAsync();
        await Assert.ThrowsAsync<NodeStoppedException>(() => node.ProposeAsync("x"u8.ToArray()));
        Assert.False(await node.Ready.WaitToReadAsync()); // the channel completed
        await node.DisposeAsync();
    }

    [Fact]
    public async Task CancellationIsHonoured()
    {
        await using var node = Ketch.Raft.Node.Start(new RaftConfig { Id = 1, Storage = MemoryStorage.WithMembers([1UL]) });
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.ProposeAsync("x"u8.ToArray(), cts.Token));
    }

    [Fact]
    public async Task AnInvalidConfChangeIsRefusedToItsCallerAndTheNodeGoesOn()
    {
        await using var node = Ketch.Raft.Node.Start(new RaftConfig { Id = 1, Storage = MemoryStorage.WithMembers([1UL, 2, 3]) });
        await Assert.ThrowsAsync<ConfChangeException>(() => node.ApplyConfChangeAsync(ConfChangeV2.LeaveJointChange));
        var status = await node.StatusAsync();
        Assert.Equal([1UL, 2, 3], status.Config.Voters);
    }

    private static bool IsLeader(Node node) =>
        node.StatusAsync().GetAwaiter().GetResult().SoftState.RaftState == StateType.Leader;

    private static IEnumerable<string> Payloads(IEnumerable<Entry> entries) =>
        entries.Where(e => e.Type == EntryType.Normal && !e.Data.IsEmpty).Select(e => System.Text.Encoding.UTF8.GetString(e.Data.Span));
}
