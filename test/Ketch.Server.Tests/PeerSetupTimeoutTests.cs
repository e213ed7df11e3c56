using System.Net.Sockets;
using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>
/// Setting up a peer connection (connect, TLS, the handshake and its answer) must finish within its
/// deadlines (the connect within etcd's dial timeout, the rest within at least 5 s): a peer that
/// accepts TCP and then stays silent must not hold a connection, on either side, for good.
/// </summary>
public sealed class PeerSetupTimeoutTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task A_member_behind_a_black_hole_is_dialled_again_and_catches_up_once_it_lifts()
    {
        await using var c = await TestCluster.StartAsync(3, partitionable: true);
        var leader = await c.LeaderAsync();
        var cut = c.Members.First(m => m != leader);

        // The leader's stream to the cut member is closed and its next dial is swallowed: the
        // handshake goes out and no answer ever comes back.
        c.PartitionSilently(cut);
        await TestNet.WaitUntil(() => c.HeldDials(leader, cut) > 0, TimeSpan.FromSeconds(10), "a dial from the leader held by the black hole");
        await TestCluster.PutAsync(leader, "k", "written during the cut");
        c.Heal();

        // The held dial never answers: only a new dial reaches the member again.
        await TestNet.WaitUntil(async () =>
            (await cut.Kv.RangeAsync(new RangeRequest { Key = B("k"), Serializable = true })).Kvs.FirstOrDefault()?.Value.ToStringUtf8() == "written during the cut",
            TimeSpan.FromSeconds(20), "the cut member to catch up after the black hole lifts");
    }

    [Fact]
    public async Task A_dialler_that_never_sends_its_handshake_is_disconnected()
    {
        await using var m = await TestMember.StartSingleAsync();
        var peer = new Uri(m.Options.ListenPeerUrls[0]);
        using var silent = new TcpClient();
        await silent.ConnectAsync(peer.Host, peer.Port);

        // Send nothing; the member must close its side within the setup timeout (5 s here).
        var read = silent.GetStream().ReadAsync(new byte[1]).AsTask();
        var done = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(done == read, "the member kept a silent peer connection open for 20 s");
        // Closed: an orderly end of stream (0 bytes) or a reset.
        var closed = await read.ContinueWith(t => t.IsFaulted ? t.Exception!.InnerException is IOException : t.Result == 0);
        Assert.True(closed, "the member sent bytes to a dialler that never sent its handshake");
    }
}
