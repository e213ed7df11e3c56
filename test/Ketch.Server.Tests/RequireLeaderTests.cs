using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Api;

namespace Ketch.Server.Tests;

/// <summary>
/// etcd's require-leader metadata (<c>hasleader: true</c>, clientv3's <c>WithRequireLeader</c>,
/// which Kubernetes' API server and <c>etcdctl watch</c> use): a member without a leader refuses
/// such calls at once and ends such streams after three election timeouts, so that the client
/// moves to a member that can serve it. Checked by hand against a 3-member etcd 3.4.23 cluster with
/// two members killed: <c>etcdctl watch</c> printed "watch was canceled (etcdserver: no leader)"
/// and exited 5, ~3 s after the member lost its leader.
/// </summary>
public sealed class RequireLeaderTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static readonly Metadata HasLeader = new() { { "hasleader", "true" } };

    private static async Task<WatchResponse> NextAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Assert.True(await call.ResponseStream.MoveNext(cts.Token), "watch stream ended");
        return call.ResponseStream.Current;
    }

    private static async Task WatchAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, string key)
    {
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B(key) } });
        Assert.True((await NextAsync(call)).Created);
    }

    private static void AssertNoLeader(RpcException e) =>
        Assert.Equal((StatusCode.Unavailable, "etcdserver: no leader"), (e.StatusCode, e.Status.Detail));

    [Fact]
    public async Task A_member_cut_off_from_its_leader_refuses_require_leader_calls_and_ends_such_watches()
    {
        await using var c = await TestCluster.StartAsync(3, partitionable: true);
        var leader = await c.LeaderAsync();
        var cut = c.Members.First(m => m != leader);
        // With a leader, the metadata changes nothing.
        await cut.Kv.PutAsync(new PutRequest { Key = B("r/k"), Value = B("1") }, HasLeader);
        using var required = cut.Watch.Watch(HasLeader);
        using var plain = cut.Watch.Watch();
        await WatchAsync(required, "r/k");
        await WatchAsync(plain, "r/k");
        await TestCluster.PutAsync(leader, "r/k", "2");
        Assert.Equal("2", (await NextAsync(required)).Events[0].Kv.Value.ToStringUtf8());
        Assert.Equal("2", (await NextAsync(plain)).Events[0].Kv.Value.ToStringUtf8());

        c.Partition(cut);
        await TestNet.WaitUntil(() => cut.Server.Leader == 0, TimeSpan.FromSeconds(20), "the cut-off member to lose its leader");

        // Requests that require a leader are refused at once; others are served as before.
        AssertNoLeader(await Assert.ThrowsAsync<RpcException>(() =>
            cut.Kv.RangeAsync(new RangeRequest { Key = B("r/k"), Serializable = true }, HasLeader).ResponseAsync));
        Assert.Equal("2", (await cut.Kv.RangeAsync(new RangeRequest { Key = B("r/k"), Serializable = true })).Kvs[0].Value.ToStringUtf8());
        // So is a new stream that requires one.
        using (var late = cut.Watch.Watch(HasLeader))
        {
            AssertNoLeader(await Assert.ThrowsAsync<RpcException>(() => late.ResponseStream.MoveNext(CancellationToken.None)));
        }

        // The open stream that requires a leader is ended with "no leader"; the other stays open.
        AssertNoLeader(await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (await required.ResponseStream.MoveNext(cts.Token))
            {
            }
        }));
        var next = plain.ResponseStream.MoveNext(CancellationToken.None);
        Assert.False(next.IsCompleted, "the watch without the metadata was ended");

        // Healed, the stream that stayed open delivers what is written next.
        c.Heal();
        await TestNet.WaitUntil(() => cut.Server.Leader != 0, TimeSpan.FromSeconds(20), "the member to find its leader again");
        await TestCluster.PutAsync(await c.LeaderAsync(), "r/k", "3");
        Assert.True(await next.WaitAsync(TimeSpan.FromSeconds(20)), "watch stream ended");
        Assert.Equal("3", plain.ResponseStream.Current.Events[0].Kv.Value.ToStringUtf8());
    }

    /// <summary>
    /// The same through the JSON gateway, whose <c>Grpc-Metadata-Hasleader: true</c> header etcd's
    /// grpc-gateway forwards as the metadata. etcd 3.4.23 by hand (2 members, one killed): a range
    /// answered HTTP 503 <c>{"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14}</c>;
    /// a new watch HTTP 503 with the stream's error chunk; a watch opened before, after its
    /// <c>created</c> line, <c>{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no
    /// leader","http_status":"Service Unavailable"}}</c> 4.5 s after the kill.
    /// </summary>
    [Fact]
    public async Task The_json_gateway_honours_grpc_metadata_hasleader_as_etcds_does()
    {
        await using var c = await TestCluster.StartAsync(3, partitionable: true);
        var leader = await c.LeaderAsync();
        var cut = c.Members.First(m => m != leader);
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var key = Convert.ToBase64String("g/k"u8);
        HttpRequestMessage Post(string path, string body, bool hasLeader)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, cut.ClientUrl + path) { Content = new StringContent(body) };
            if (hasLeader)
            {
                request.Headers.Add("Grpc-Metadata-Hasleader", "true");
            }
            return request;
        }
        async Task<(System.Net.HttpStatusCode, string)> Send(string path, string body, bool hasLeader)
        {
            using var request = Post(path, body, hasLeader);
            using var response = await http.SendAsync(request, deadline.Token);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(deadline.Token));
        }
        var range = $"{{\"key\":\"{key}\",\"serializable\":true}}";
        var watch = $"{{\"create_request\":{{\"key\":\"{key}\"}}}}";

        // With a leader, the header changes nothing.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await Send("/v3/kv/put", $"{{\"key\":\"{key}\",\"value\":\"dg==\"}}", hasLeader: true)).Item1);
        using var open = Post("/v3/watch", watch, hasLeader: true);
        using var opened = await http.SendAsync(open, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        using var lines = new StreamReader(await opened.Content.ReadAsStreamAsync(deadline.Token));
        using (var created = System.Text.Json.JsonDocument.Parse(await lines.ReadLineAsync(deadline.Token) ?? "null"))
        {
            Assert.True(created.RootElement.GetProperty("result").GetProperty("created").GetBoolean());
        }

        c.Partition(cut);
        await TestNet.WaitUntil(() => cut.Server.Leader == 0, TimeSpan.FromSeconds(20), "the cut-off member to lose its leader");

        const string NoLeaderChunk = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"etcdserver: no leader\",\"http_status\":\"Service Unavailable\"}}";
        Assert.Equal((System.Net.HttpStatusCode.ServiceUnavailable, "{\"error\":\"etcdserver: no leader\",\"message\":\"etcdserver: no leader\",\"code\":14}"),
            await Send("/v3/kv/range", range, hasLeader: true));
        var (plainStatus, plainBody) = await Send("/v3/kv/range", range, hasLeader: false);
        Assert.Equal(System.Net.HttpStatusCode.OK, plainStatus);
        using (var read = System.Text.Json.JsonDocument.Parse(plainBody))
        {
            Assert.Equal("dg==", read.RootElement.GetProperty("kvs")[0].GetProperty("value").GetString());
        }
        Assert.Equal((System.Net.HttpStatusCode.ServiceUnavailable, NoLeaderChunk + "\n"), await Send("/v3/watch", watch, hasLeader: true));

        // The watch opened with a leader ends with the stream's error chunk.
        Assert.Equal(NoLeaderChunk, await lines.ReadLineAsync(deadline.Token));
        Assert.Null(await lines.ReadLineAsync(deadline.Token));
    }

    [Fact]
    public async Task Etcdctl_watch_on_a_member_that_loses_its_leader_is_canceled_as_on_etcd()
    {
        Etcdctl.Require();
        await using var c = await TestCluster.StartAsync(3, partitionable: true);
        var leader = await c.LeaderAsync();
        var cut = c.Members.First(m => m != leader);
        var watch = Etcdctl.RunAsync(cut.ClientUrl, "watch r/e", timeoutSeconds: 60);
        await TestNet.WaitUntil(() => cut.Server.Loop.Kv.WatcherCounts().Watchers == 1, TimeSpan.FromSeconds(20), "etcdctl's watcher");
        await TestCluster.PutAsync(leader, "r/e", "v");

        c.Partition(cut);
        var (exit, output, error) = await watch;

        Assert.Equal("PUT\nr/e\nv\n", output);
        Assert.Equal("watch was canceled (etcdserver: no leader)\nError: watch is canceled by the server\n", error);
        Assert.Equal(5, exit);
    }

    [Fact]
    public async Task A_client_watch_leaves_a_member_that_lost_its_leader_and_misses_no_event()
    {
        await using var c = await TestCluster.StartAsync(3, partitionable: true);
        var leader = await c.LeaderAsync();
        var cut = c.Members.First(m => m != leader);
        var other = c.Members.First(m => m != leader && m != cut);
        // Ketch.Client asks for a leader on every call by default.
        using var client = new Ketch.Client.KetchClient(cut.ClientUrl, other.ClientUrl);
        var stream = client.Watch.Watch("f/", new Ketch.Client.WatchOptions { Prefix = true });
        var values = System.Threading.Channels.Channel.CreateUnbounded<string>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            await foreach (var r in stream.WithCancellation(stop.Token))
            {
                foreach (var e in r.Events)
                {
                    values.Writer.TryWrite(e.Kv.Value.ToStringUtf8());
                }
            }
        });
        await TestNet.WaitUntil(() => cut.Server.Loop.Kv.WatcherCounts().Watchers == 1, TimeSpan.FromSeconds(20), "the watch on the first endpoint");
        await TestCluster.PutAsync(leader, "f/a", "1");
        Assert.Equal("1", await values.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)));

        c.Partition(cut);
        await TestCluster.PutAsync(leader, "f/a", "2");
        await TestCluster.PutAsync(leader, "f/a", "3");
        // The cut-off member cannot deliver them; once it ends the watch, the client resumes it on
        // the other endpoint from the next revision.
        Assert.Equal("2", await values.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("3", await values.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(stream.Reconnects >= 1);
        Assert.Equal(1, other.Server.Loop.Kv.WatcherCounts().Watchers);

        await stop.CancelAsync();
        var ended = await Record.ExceptionAsync(() => reader);
        Assert.True(ended is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled }, $"the watch ended with {ended}");
    }

    [Fact]
    public void Streams_end_only_after_three_election_timeouts_in_a_row_without_a_leader()
    {
        var hasLeader = true;
        var monitor = new LeaderLossMonitor(() => hasLeader);
        using var stream = new CancellationTokenSource();
        using var tracked = monitor.Track(stream);
        using var finished = new CancellationTokenSource();
        monitor.Track(finished).Dispose();

        hasLeader = false;
        monitor.Check();
        monitor.Check();
        hasLeader = true; // an election ended in time: the count starts again
        monitor.Check();
        hasLeader = false;
        monitor.Check();
        monitor.Check();
        Assert.False(stream.IsCancellationRequested);
        monitor.Check();
        Assert.True(stream.IsCancellationRequested);
        Assert.True(tracked.Ended);
        Assert.False(finished.IsCancellationRequested, "a stream that had finished was cancelled");

        // Streams opened later are tracked afresh.
        using var later = new CancellationTokenSource();
        using var trackedLater = monitor.Track(later);
        hasLeader = true;
        monitor.Check();
        Assert.False(later.IsCancellationRequested);
    }
}
