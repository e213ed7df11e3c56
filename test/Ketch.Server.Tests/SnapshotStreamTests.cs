using System.Buffers.Binary;
using System.Net.Sockets;
using Google.Protobuf;
using Ketch.Api.Etcdserverpb;
using Ketch.Raft;
using Ketch.Raft.Encoding;
using Ketch.Server.Peer;

namespace Ketch.Server.Tests;

/// <summary>
/// A snapshot's store stream runs to the end of its peer connection, so a leader that dies or a
/// connection cut mid-stream looks, to the follower, like the end of the stream. ChaosTests hit it:
/// a cut-short stream (196,608 bytes, three 64 KiB writes) was handed to Raft, the restore failed,
/// and the follower's Raft loop stopped. The follower must check the stream whole and drop it.
/// </summary>
public sealed class SnapshotStreamTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task A_snapshot_stream_cut_short_is_dropped_and_the_follower_keeps_serving()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.LeaderAsync();
        var follower = c.Members.First(m => m != leader);
        for (var i = 0; i < 50; i++)
        {
            await TestCluster.PutAsync(leader, $"s/{i}", new string('v', 200));
        }
        var whole = new MemoryStream();
        leader.Server.Loop.Kv.Snapshot(whole);
        var loop = leader.Server.Loop;
        // What the leader sends, from it, in its term, ahead of everything the follower has.
        var snap = new Message
        {
            Type = MessageType.Snap,
            From = loop.MemberId,
            To = follower.Server.MemberId,
            Term = loop.Term,
            Snapshot = new Snapshot(ReadOnlyMemory<byte>.Empty,
                new SnapshotMetadata(loop.CommitIndex + 1000, loop.Term, ConfState.Of(c.Members.Select(m => m.Server.MemberId)))),
        };

        var peer = new Uri(follower.Options.ListenPeerUrls[0]);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(peer.Host, peer.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(PeerHandshake.Write(loop.ClusterId, loop.MemberId, follower.Server.MemberId, snapshot: true));
        var answer = new byte[1];
        await stream.ReadExactlyAsync(answer);
        Assert.Equal(PeerHandshake.Accepted, answer[0]);
        var frame = RaftEncoding.ToBytes(snap);
        var length = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, frame.Length);
        await stream.WriteAsync(length);
        await stream.WriteAsync(frame);
        await stream.WriteAsync(whole.ToArray().AsMemory(0, (int)whole.Length / 2));
        tcp.Client.Shutdown(SocketShutdown.Send);

        // The follower refuses it (so the sender reports the snapshot failed) and keeps no file.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var reply = new byte[2];
        var n = await stream.ReadAtLeastAsync(reply, 1, throwOnEndOfStream: false, cts.Token);
        Assert.Equal((1, PeerHandshake.SnapshotRefused), (n, reply[0]));
        Assert.Empty(Directory.GetFiles(SnapshotFile.Directory(follower.Options.DataDir)));

        // Its Raft loop runs on: it applies what is written next, as before.
        await TestCluster.PutAsync(leader, "s/after", "x");
        await TestNet.WaitUntil(async () =>
            (await follower.Kv.RangeAsync(new RangeRequest { Key = B("s/after"), Serializable = true })).Kvs.Count == 1,
            TimeSpan.FromSeconds(20), "the follower to apply a write made after the cut-short snapshot");
        Assert.Null(follower.Server.Loop.Failed);
    }
}
