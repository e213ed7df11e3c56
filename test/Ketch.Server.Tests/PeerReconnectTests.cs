namespace Ketch.Server.Tests;

/// <summary>
/// A member whose stream to a peer failed dials it again after a backoff (100 ms doubling to 2 s),
/// but a peer that connects to it is up, so it dials that peer at once. Until it does, its Raft
/// messages to the peer are dropped: a member restarted after a quorum loss could neither be
/// elected nor vote in that time.
/// </summary>
public sealed class PeerReconnectTests
{
    [Fact]
    public async Task A_member_that_comes_back_is_dialled_at_once_not_at_the_end_of_the_backoff()
    {
        // Backoffs of a minute: within the test's deadlines, only the peer reaching us brings a
        // stream back. (Forming the cluster needs it already: the first member to start backs off
        // from the two that are not up yet.)
        var minute = TimeSpan.FromMinutes(1);
        await using var c = await TestCluster.StartAsync(3, tweak: o => o with { PeerRetryBackoff = (minute, minute) });
        var leader = await c.LeaderAsync();
        var other = c.Members.First(m => m != leader);
        var id = other.Server.MemberId;
        await TestNet.WaitUntil(() => leader.Server.Loop.PeerActiveSince(id) is not null, TimeSpan.FromSeconds(10), "the leader's streams with the member");

        await other.StopAsync();
        // The leader's stream fails at its next heartbeat, and it backs off for a minute.
        await TestNet.WaitUntil(() => leader.Server.Loop.PeerActiveSince(id) is null, TimeSpan.FromSeconds(10), "the leader to lose the member");
        await other.StartFromDiskAsync();

        await TestNet.WaitUntil(() => leader.Server.Loop.PeerActiveSince(id) is not null, TimeSpan.FromSeconds(10), "the leader's stream to the member to be back");
        await TestCluster.PutAsync(other, "reconnect/k", "v");
    }
}
