using Ketch.Server.Api;
using Ketch.Server.Http;
using Ketch.Server.Member;
using Ketch.Server.Peer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ketch.Server;

/// <summary>
/// One Ketch member, embeddable in any .NET process: its Raft loop over a WAL and the MVCC store,
/// the peer transport, and etcd's v3 gRPC API plus <c>/health</c>, <c>/version</c>,
/// <c>/metrics</c> and the JSON gateway, all on each client URL.
/// </summary>
public sealed class KetchServer : IAsyncDisposable
{
    private readonly KetchServerOptions _options;
    private readonly ILogger _log;
    private RaftLoop? _loop;
    private WebApplication? _app;
    private PeerTransport? _transport;
    private LeaderClient? _leaderClient;
    private Task? _publish;
    private AutoCompactor? _compactor;
    private CorruptionCheck? _corruption;
    private Task? _corruptionChecks;
    private Task? _leaderLoss;
    private Tls.TlsCredentials? _clientTls;
    private Tls.TlsCredentials? _peerTls;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Creates a member from <paramref name="options"/>; nothing runs before <see cref="StartAsync"/>.</summary>
    public KetchServer(KetchServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _log = options.LoggerFactory.CreateLogger("Ketch.Server");
    }

    /// <summary>This member's id (valid after start).</summary>
    public ulong MemberId => _loop?.MemberId ?? 0;

    /// <summary>The cluster's id (valid after start).</summary>
    public ulong ClusterId => _loop?.ClusterId ?? 0;

    /// <summary>The leader this member knows, 0 when none.</summary>
    public ulong Leader => _loop?.Leader ?? 0;

    /// <summary>Completes when this member learns that it was removed from the cluster (valid after
    /// start): the host should stop it then, as etcd stops a removed member.</summary>
    public Task Removed => Loop.Removed;

    /// <summary>Completes with the error when this member's Raft loop dies (valid after start): it
    /// serves nothing from then on, and the host should stop it and exit with an error, as etcd
    /// exits, so that a supervisor restarts it.</summary>
    public Task<Exception> Failure => Loop.Failure;

    /// <summary>The addresses the client port is bound to (useful with port 0).</summary>
    public IReadOnlyList<string> ClientAddresses =>
        _app?.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    internal RaftLoop Loop => _loop ?? throw new InvalidOperationException("not started");

    internal PeerTransport? Transport => _transport;

    /// <summary>The corruption checks (valid after start).</summary>
    internal CorruptionCheck Corruption => _corruption ?? throw new InvalidOperationException("not started");

    /// <summary>Opens the storage, binds the client and peer URLs, and starts the Raft loop.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        // As etcd: certificates are checked (and auto TLS generated) before anything else starts.
        _clientTls = Tls.TlsCredentials.Resolve(peer: false, _options.ClientTls, [.. _options.ListenClientUrls, .. _options.ListenClientHttpUrls, .. _options.ListenMetricsUrls],
            Hosts(_options.ListenClientUrls, _options.AdvertiseClientUrls), _options.DataDir, _options.SelfSignedCertValidityYears, _log);
        _peerTls = Tls.TlsCredentials.Resolve(peer: true, _options.PeerTls, _options.ListenPeerUrls,
            Hosts(_options.ListenPeerUrls, _options.InitialAdvertisePeerUrls), _options.DataDir, _options.SelfSignedCertValidityYears, _log);
        Peer.ClusterInfo? joining = null;
        var walDir = string.IsNullOrEmpty(_options.WalDir) ? Path.Combine(_options.DataDir, "member") : _options.WalDir;
        if (string.Equals(_options.InitialClusterState, "existing", StringComparison.Ordinal) && !Ketch.Wal.WalStorage.Exists(walDir))
        {
            var others = ClusterConfig.Parse(RaftLoop.InitialCluster(_options), _options.InitialClusterToken)
                .Where(m => m.Name != _options.Name).SelectMany(m => m.PeerUrls).ToList();
            joining = await Peer.ClusterQuery.FetchAsync(others, _options.InitialAdvertisePeerUrls, _peerTls, cancellationToken).ConfigureAwait(false);
        }
        // RaftLoop.Open runs on this thread: what it allocated is the open's garbage plus the index.
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        _loop = RaftLoop.Open(_options, _options.LoggerFactory.CreateLogger("Ketch.Raft"), joining);
        StartupHeap.CompactAfterOpen(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore, _log);
        try
        {
            _transport = new PeerTransport(_loop, _options, _options.LoggerFactory.CreateLogger("Ketch.Peer"), _peerTls);
            // Listening before dialling: a peer that our stream reaches dials us back at once
            // (PeerSender.PeerReachedUs), and should find us listening.
            _transport.Start();
            foreach (var m in _loop.Membership.Members.Where(m => m.Id != _loop.MemberId))
            {
                _transport.AddPeer(m.Id, m.PeerUrls);
            }
            _corruption = new CorruptionCheck(_loop, _options, _peerTls, _options.LoggerFactory.CreateLogger("Ketch.Corruption"));
            if (_options.InitialCorruptCheck)
            {
                // Before any client is served, as etcd; the peers answer from their transports.
                await _corruption.CheckBeforeServingAsync(cancellationToken).ConfigureAwait(false);
            }
            var member = new MemberContext(_loop, _options);
            _leaderClient = new LeaderClient(_loop, _options, _clientTls);
            member.LeaderClient = _leaderClient;
            member.ClientTls = _clientTls;
            member.Stopping = _stop.Token;
            var loop = _loop;
            var leaderLoss = new LeaderLossMonitor(() => loop.Leader != 0);
            _app = BuildApp(member, leaderLoss);
            await _app.StartAsync(cancellationToken).ConfigureAwait(false);
            _loop.Start(_transport);
            _leaderLoss = leaderLoss.RunAsync(TimeSpan.FromMilliseconds(_options.ElectionTimeoutMs), _options.TimeProvider, _stop.Token);
            _publish = PublishAttributesAsync(_stop.Token);
            _compactor = AutoCompactor.Start(_loop, _options, _log);
            if (_options.CorruptCheckInterval > TimeSpan.Zero)
            {
                _corruptionChecks = _corruption.RunAsync(_stop.Token);
            }
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The hosts of <paramref name="urls"/>: what a certificate generated by auto TLS names.</summary>
    private static IEnumerable<string> Hosts(params IEnumerable<string>[] urls) =>
        urls.SelectMany(u => u).Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri.Host : "").Where(h => h.Length > 0);

    /// <summary>Waits until this member knows a leader.</summary>
    public Task WaitForLeaderAsync(CancellationToken cancellationToken = default) => Loop.WaitForLeaderAsync(cancellationToken);

    private WebApplication BuildApp(MemberContext member, LeaderLossMonitor leaderLoss)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "ketch",
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(new RequestLoggingOff(_options.LoggerFactory));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // gRPC requests on sniffed HTTP/2 connections say :scheme http on what Kestrel now
            // believes is a TLS connection (see ProtocolSniffer).
            k.AllowAlternateSchemes = true;
            // etcd clients multiplex every watch and keep-alive stream on one connection
            // (--max-concurrent-streams, unlimited by default as etcd's).
            k.Limits.Http2.MaxStreamsPerConnection = _options.MaxConcurrentStreams;
            // --grpc-keepalive-interval/-timeout: the server's HTTP/2 pings of idle connections
            // (0 disables; Kestrel takes at least a second).
            k.Limits.Http2.KeepAlivePingDelay = KeepAliveSetting(_options.GrpcKeepAliveInterval);
            k.Limits.Http2.KeepAlivePingTimeout = KeepAliveSetting(_options.GrpcKeepAliveTimeout);
            k.Limits.Http2.InitialConnectionWindowSize = 4 * 1024 * 1024;
            k.Limits.Http2.InitialStreamWindowSize = 2 * 1024 * 1024;
            k.Limits.MaxRequestBodySize = null;
            var authority = new Http2AuthorityAdapter(k.Limits.Http2.HeaderTableSize, _options.LoggerFactory);
            foreach (var url in _options.ListenClientUrls)
            {
                var tls = Tls.TlsCredentials.IsHttps(url) ? _clientTls : null;
                ListenUrls.Listen(k, url, lo =>
                {
                    lo.Protocols = HttpProtocols.Http1AndHttp2;
                    if (tls is not null)
                    {
                        // ALPN chooses HTTP/2 (gRPC) or HTTP/1.1; the middleware below runs on the
                        // decrypted stream.
                        lo.UseHttps(tls.KestrelOptions());
                    }
                    else
                    {
                        lo.Use(next => ctx => ProtocolSniffer.InvokeAsync(ctx, next));
                    }
                    // etcdctl 3.4's ":authority: http://host:port", fixed below Kestrel (see the type).
                    lo.Use(next => ctx => authority.InvokeAsync(ctx, next));
                    if (_options.ListenClientHttpUrls.Count > 0)
                    {
                        lo.Use(next => ctx =>
                        {
                            ctx.Items[HttpAccessControl.GrpcOnlyConnection] = true;
                            return next(ctx);
                        });
                    }
                });
            }
            // etcd 3.5's --listen-client-http-urls: the HTTP services only. --listen-metrics-urls:
            // /metrics and the health endpoints only.
            foreach (var url in _options.ListenClientHttpUrls)
            {
                ListenHttpOnly(k, url, HttpAccessControl.HttpOnlyConnection);
            }
            foreach (var url in _options.ListenMetricsUrls)
            {
                ListenHttpOnly(k, url, HttpAccessControl.MetricsConnection);
            }
        });
        builder.Services.AddGrpc(o =>
        {
            // Above --max-request-bytes (etcd adds 512 KiB of gRPC overhead), so that we answer
            // "etcdserver: request is too large" ourselves.
            o.MaxReceiveMessageSize = _options.MaxRequestBytes + (512 * 1024);
            o.MaxSendMessageSize = null;
            o.EnableDetailedErrors = false;
            // Tokens and permissions for every call (etcd's auth), ahead of the services.
            o.Interceptors.Add<GrpcMetricsInterceptor>();
            o.Interceptors.Add<LearnerGate>();
            o.Interceptors.Add<RequireLeaderGate>();
            o.Interceptors.Add<Auth.AuthInterceptor>();
        });
        builder.Services.AddSingleton(member);
        builder.Services.AddSingleton(leaderLoss);
        // gRPC's standard health service, as etcd registers it: "" (all of etcd's services) is
        // SERVING. gRPC health probes (Kubernetes' grpc probe, Envoy, grpc-go's client-side health
        // checking) ask it; without it they get Unimplemented and count the member as down.
        var health = new Grpc.HealthCheck.HealthServiceImpl();
        health.SetStatus("", Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
        builder.Services.AddSingleton(health);
        var app = builder.Build();
        // Ahead of routing: the checks may answer by themselves, and /v3beta/ is rewritten.
        app.Use(new HttpAccessControl(_options).InvokeAsync);
        app.UseRouting();
        app.MapGrpcService<KvService>();
        app.MapGrpcService<WatchService>();
        app.MapGrpcService<LeaseService>();
        app.MapGrpcService<ClusterService>();
        app.MapGrpcService<MaintenanceService>();
        app.MapGrpcService<AuthService>();
        app.MapGrpcService<ElectionService>();
        app.MapGrpcService<LockService>();
        app.MapGrpcService<Grpc.HealthCheck.HealthServiceImpl>();
        HttpEndpoints.Map(app, member, leaderLoss);
        // Any other path: Go's http.NotFound, as etcd's mux answers it.
        app.MapFallback(http =>
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            http.Response.ContentType = "text/plain; charset=utf-8";
            return http.Response.WriteAsync("404 page not found\n");
        });
        return app;
    }

    /// <summary>A listener for HTTP services only: HTTP/1.1 (or HTTP/2 chosen by ALPN on https),
    /// its connections marked with <paramref name="mark"/> for <see cref="HttpAccessControl"/>.</summary>
    private void ListenHttpOnly(KestrelServerOptions k, string url, string mark)
    {
        var tls = Tls.TlsCredentials.IsHttps(url) ? _clientTls : null;
        ListenUrls.Listen(k, url, lo =>
        {
            lo.Protocols = tls is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
            if (tls is not null)
            {
                lo.UseHttps(tls.KestrelOptions());
            }
            lo.Use(next => ctx =>
            {
                ctx.Items[mark] = true;
                return next(ctx);
            });
        });
    }

    private static TimeSpan KeepAliveSetting(TimeSpan value) =>
        value <= TimeSpan.Zero ? TimeSpan.MaxValue : TimeSpan.FromTicks(Math.Max(value.Ticks, TimeSpan.TicksPerSecond));

    /// <summary>Publishes this member's name and client URLs through Raft (as etcd does at start),
    /// retrying until it is applied.</summary>
    private async Task PublishAttributesAsync(CancellationToken ct)
    {
        var loop = Loop;
        var attrs = new Ketch.Api.Etcdserverpb.Member { ID = loop.MemberId, Name = _options.Name };
        attrs.ClientURLs.AddRange(_options.AdvertiseClientUrls);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await loop.WaitForLeaderAsync(ct).ConfigureAwait(false);
                var result = await loop.ProposeAsync(Apply.RaftRequestKind.MemberAttributes, attrs, ct).ConfigureAwait(false);
                if (result.Error is null)
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Grpc.Core.RpcException)
            {
            }
            await Task.Delay(TimeSpan.FromMilliseconds(_options.HeartbeatIntervalMs), _options.TimeProvider, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Stops serving, then stops the Raft loop and closes the storage.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_compactor is not null)
        {
            await _compactor.DisposeAsync().ConfigureAwait(false);
            _compactor = null;
        }
        if (_corruptionChecks is not null)
        {
            await _corruptionChecks.ConfigureAwait(false);
            _corruptionChecks = null;
        }
        if (_leaderLoss is not null)
        {
            await _leaderLoss.ConfigureAwait(false);
            _leaderLoss = null;
        }
        if (_publish is not null)
        {
            try
            {
                await _publish.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        if (_app is not null)
        {
            // Long-lived streams (watch, keep-alive) never end by themselves: after a short grace
            // period Kestrel aborts what is still open.
            using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            {
                await _app.StopAsync(grace.Token).ConfigureAwait(false);
            }
            await _app.DisposeAsync().ConfigureAwait(false);
            _app = null;
        }
        _leaderClient?.Dispose();
        if (_transport is not null)
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
            _transport = null;
        }
        if (_loop is not null)
        {
            await _loop.DisposeAsync().ConfigureAwait(false);
            _loop = null;
        }
    }
}
