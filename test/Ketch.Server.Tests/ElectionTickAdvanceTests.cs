using Ketch.Raft;
using Ketch.Server.Member;
using Ketch.Server.Peer;

namespace Ketch.Server.Tests;

/// <summary>
/// <c>--initial-election-tick-advance</c>: a member of a multi-member cluster that boots with its
/// peers connected and no leader campaigns within two to <c>ElectionTicks + 1</c> ticks, not after a
/// whole randomized election timeout (<c>ElectionTicks</c> to <c>2 ElectionTicks - 1</c>). The
/// member runs its real Raft loop on a fresh data directory; its ticks come from a clock the test
/// turns by hand, and its peers are a transport that only reports which of them are connected.
/// </summary>
public sealed class ElectionTickAdvanceTests
{
    private const int ElectionTicks = 20;

    [Theory]
    // etcd's rule: more than one peer connected.
    [InlineData(true, 2, true)]
    [InlineData(false, 2, true)]
    // With pre-vote, a quorum connected is enough: one peer of three.
    [InlineData(true, 1, true)]
    // Without pre-vote an early campaign could disrupt a leader this member has not heard from yet:
    // one connected peer is not enough, as in etcd.
    [InlineData(false, 1, false)]
    // Nobody to elect a leader with.
    [InlineData(true, 0, false)]
    public async Task A_booting_member_with_its_peers_connected_campaigns_an_election_timeout_early(bool preVote, int connected, bool advanced)
    {
        // The same member boots twice with the same random seed, so it draws the same randomized
        // election timeout (ElectionTicks to 2 ElectionTicks - 1 ticks): once with the flag off...
        var withoutAdvance = await FirstCampaignTickAsync(advance: false, preVote, connected);
        Assert.InRange(withoutAdvance, ElectionTicks, 2 * ElectionTicks - 1);
        // ...and once with it on (etcd's default), when the timer is fast-forwarded by
        // ElectionTicks - 2 on the first tick, or not at all.
        var withAdvance = await FirstCampaignTickAsync(advance: true, preVote, connected);
        Assert.Equal(advanced ? withoutAdvance - (ElectionTicks - 2) : withoutAdvance, withAdvance);
    }

    /// <summary>Boots m1 of a three-member cluster and ticks it until it leaves the follower state;
    /// returns that tick.</summary>
    private static async Task<int> FirstCampaignTickAsync(bool advance, bool preVote, int connected)
    {
        using var dir = new TempDir();
        var clock = new HandTurnedClock();
        var options = new KetchServerOptions
        {
            Name = "m1",
            DataDir = dir.Path,
            InitialCluster = "m1=http://127.0.0.1:1,m2=http://127.0.0.1:2,m3=http://127.0.0.1:3",
            InitialAdvertisePeerUrls = ["http://127.0.0.1:1"],
            HeartbeatIntervalMs = 100,
            ElectionTimeoutMs = 100 * ElectionTicks,
            PreVote = preVote,
            InitialElectionTickAdvance = advance,
            TimeProvider = clock,
            LoggerFactory = TestLog.Factory(),
        };
        await using var loop = RaftLoop.Open(options, TestLog.Factory().CreateLogger("test"));
        var peers = loop.Membership.Members.Where(m => m.Id != loop.MemberId).Select(m => m.Id).ToList();
        await using var transport = new ConnectedPeers(peers.Take(connected));
        loop.Start(transport);
        for (var tick = 1; tick < 2 * ElectionTicks; tick++)
        {
            clock.Tick();
            await TestNet.WaitUntil(() => loop.Ticks == tick, TimeSpan.FromSeconds(10), $"tick {tick} to be handled");
            if (loop.RaftStatus().SoftState.RaftState != StateType.Follower)
            {
                Assert.Equal(preVote ? StateType.PreCandidate : StateType.Candidate, loop.RaftStatus().SoftState.RaftState);
                return tick;
            }
        }
        throw new Xunit.Sdk.XunitException($"no campaign in {2 * ElectionTicks - 1} ticks");
    }

    /// <summary>Wall-clock time fixed (the Raft node's random seed derives from it, so every run
    /// draws the same randomized timeout) and timers that fire only when the test turns the clock.</summary>
    private sealed class HandTurnedClock : TimeProvider
    {
        private readonly DateTimeOffset _now = new(2026, 11, 28, 0, 0, 0, TimeSpan.Zero);
        private readonly List<(TimerCallback Callback, object? State)> _timers = [];

        public override DateTimeOffset GetUtcNow() => _now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (_timers)
            {
                _timers.Add((callback, state));
            }
            return new NeverFires();
        }

        /// <summary>Fires every timer once (the Raft loop's ticker is the only one).</summary>
        public void Tick()
        {
            lock (_timers)
            {
                foreach (var (callback, state) in _timers)
                {
                    callback(state);
                }
            }
        }

        private sealed class NeverFires : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => default;
        }
    }

    /// <summary>Peers that are connected (or not) and drop every message.</summary>
    private sealed class ConnectedPeers(IEnumerable<ulong> connected) : IPeerTransport
    {
        private readonly HashSet<ulong> _connected = [.. connected];

        public void Send(IReadOnlyList<Message> messages)
        {
        }

        public void SendSnapshot(Message message, Action<Stream> writeStore)
        {
        }

        public void AddPeer(ulong id, IReadOnlyList<string> peerUrls)
        {
        }

        public void RemovePeer(ulong id)
        {
        }

        public DateTimeOffset? ActiveSince(ulong id) => _connected.Contains(id) ? DateTimeOffset.UnixEpoch : null;

        public ValueTask DisposeAsync() => default;
    }
}
