using System.Net;
using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>--cors, --host-whitelist, --listen-metrics-urls, --listen-client-http-urls,
/// --enable-grpc-gateway and the /v3beta prefix, as etcd serves them.</summary>
public sealed class HttpAccessTests
{
    private static HttpClient Http1() => new() { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

    [Fact]
    public async Task Default_cors_allows_any_origin_and_answers_preflights()
    {
        await using var m = await TestMember.StartSingleAsync();
        using var http = Http1();
        var range = await http.PostAsync(m.ClientUrl + "/v3/kv/range", new StringContent("{\"key\":\"YQ==\"}"));
        Assert.Equal(HttpStatusCode.OK, range.StatusCode);
        Assert.Equal("*", range.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("POST, GET, OPTIONS, PUT, DELETE", range.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Equal("accept, content-type, authorization", range.Headers.GetValues("Access-Control-Allow-Headers").Single());

        using var preflight = new HttpRequestMessage(HttpMethod.Options, m.ClientUrl + "/v3/kv/put");
        preflight.Headers.Add("Origin", "http://dashboard.example");
        var answer = await http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("", await answer.Content.ReadAsStringAsync());
        Assert.Equal("*", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());

        // etcd 3.4's /v3beta prefix is the same gateway.
        var beta = await http.PostAsync(m.ClientUrl + "/v3beta/kv/range", new StringContent("{\"key\":\"YQ==\"}"));
        Assert.Equal(HttpStatusCode.OK, beta.StatusCode);
        Assert.Contains("\"revision\"", await beta.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cors_list_and_host_whitelist_are_enforced_on_http_but_not_on_grpc()
    {
        await using var m = await TestMember.StartSingleAsync(o => o with { CorsOrigins = ["http://ok.example"], HostWhitelist = ["127.0.0.1"] });
        using var http = Http1();

        using var allowed = new HttpRequestMessage(HttpMethod.Get, m.ClientUrl + "/version");
        allowed.Headers.Add("Origin", "http://ok.example");
        var ok = await http.SendAsync(allowed);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("http://ok.example", ok.Headers.GetValues("Access-Control-Allow-Origin").Single());

        using var other = new HttpRequestMessage(HttpMethod.Get, m.ClientUrl + "/version");
        other.Headers.Add("Origin", "http://evil.example");
        var noCors = await http.SendAsync(other);
        Assert.Equal(HttpStatusCode.OK, noCors.StatusCode); // served, but a browser will not hand it to the page
        Assert.False(noCors.Headers.Contains("Access-Control-Allow-Origin"));

        // A DNS-rebound name reaching the member's address: refused as etcd refuses it.
        using var rebound = new HttpRequestMessage(HttpMethod.Post, m.ClientUrl + "/v3/kv/put") { Content = new StringContent("{\"key\":\"YQ==\",\"value\":\"eA==\"}") };
        rebound.Headers.Host = "attacker.example:" + new Uri(m.ClientUrl).Port;
        var refused = await http.SendAsync(rebound);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, refused.StatusCode);
        Assert.Contains("--host-whitelist", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, (await m.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("a") })).Count); // nothing was written

        // gRPC on the same port is not an HTTP handler: neither check applies (as etcd).
        await m.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("a"), Value = ByteString.CopyFromUtf8("x") });
    }

    [Fact]
    public async Task Metrics_urls_serve_only_metrics_and_health()
    {
        var metricsUrl = $"http://127.0.0.1:{TestNet.FreePort()}";
        await using var m = await TestMember.StartSingleAsync(o => o with { ListenMetricsUrls = [metricsUrl] });
        using var http = Http1();
        Assert.Contains("etcd_server_has_leader 1", await http.GetStringAsync(metricsUrl + "/metrics"), StringComparison.Ordinal);
        Assert.Equal("{\"health\":\"true\",\"reason\":\"\"}", await http.GetStringAsync(metricsUrl + "/health"));
        // etcd 3.5.11's probes, which kubeadm points at the metrics URL.
        Assert.Equal("ok\n", await http.GetStringAsync(metricsUrl + "/livez"));
        Assert.Equal("ok\n", await http.GetStringAsync(metricsUrl + "/readyz"));
        Assert.Equal("[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n", await http.GetStringAsync(metricsUrl + "/readyz?verbose"));
        Assert.Equal("[+]serializable_read excluded: ok\nok\n", await http.GetStringAsync(metricsUrl + "/livez?verbose&exclude=serializable_read"));
        var gateway = await http.PostAsync(metricsUrl + "/v3/kv/range", new StringContent("{\"key\":\"YQ==\"}"));
        Assert.Equal(HttpStatusCode.NotFound, gateway.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(metricsUrl + "/version")).StatusCode);
        // The client URL still serves everything.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(m.ClientUrl + "/version")).StatusCode);
    }

    [Fact]
    public async Task Client_http_urls_take_the_http_services_and_leave_grpc_to_the_client_urls()
    {
        var httpUrl = $"http://127.0.0.1:{TestNet.FreePort()}";
        await using var m = await TestMember.StartSingleAsync(o => o with { ListenClientHttpUrls = [httpUrl] });
        using var http = Http1();
        // The HTTP URL: the gateway, /health, /version, /metrics.
        var put = await http.PostAsync(httpUrl + "/v3/kv/put", new StringContent("{\"key\":\"aHR0cA==\",\"value\":\"eQ==\"}"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("{\"health\":\"true\",\"reason\":\"\"}", await http.GetStringAsync(httpUrl + "/health"));
        Assert.Contains("etcdserver", await http.GetStringAsync(httpUrl + "/version"), StringComparison.Ordinal);
        // The client URL: gRPC only (etcd 3.5: the flag "removes http services from --listen-client-urls").
        Assert.Equal("y", (await m.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("http") })).Kvs.Single().Value.ToStringUtf8());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(m.ClientUrl + "/health")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync(m.ClientUrl + "/v3/kv/range", new StringContent("{\"key\":\"YQ==\"}"))).StatusCode);
        // And no gRPC on the HTTP URL.
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(httpUrl);
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => new KV.KVClient(channel).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("http") }).ResponseAsync);
        Assert.NotEqual(Grpc.Core.StatusCode.OK, e.StatusCode);
    }

    [Fact]
    public async Task Without_the_gateway_v3_paths_are_not_found_and_the_rest_is_served()
    {
        await using var m = await TestMember.StartSingleAsync(o => o with { EnableGrpcGateway = false });
        using var http = Http1();
        var range = await http.PostAsync(m.ClientUrl + "/v3/kv/range", new StringContent("{\"key\":\"YQ==\"}"));
        Assert.Equal((HttpStatusCode.NotFound, "404 page not found\n"), (range.StatusCode, await range.Content.ReadAsStringAsync())); // Go's http.NotFound, as etcd
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync(m.ClientUrl + "/v3/watch", new StringContent("{\"create_request\":{\"key\":\"YQ==\"}}"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(m.ClientUrl + "/health")).StatusCode);
        await m.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("a"), Value = ByteString.CopyFromUtf8("x") });
        // A gRPC method no service has is still gRPC's Unimplemented, not the HTTP 404 page.
        var bytes = Grpc.Core.Marshallers.Create<byte[]>(b => b, b => b);
        var unknown = new Grpc.Core.Method<byte[], byte[]>(Grpc.Core.MethodType.Unary, "etcdserverpb.KV", "NoSuchMethod", bytes, bytes);
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => m.Channel.CreateCallInvoker().AsyncUnaryCall(unknown, null, default, []).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.Unimplemented, e.StatusCode);
    }
}
