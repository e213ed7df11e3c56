using Grpc.Core;

namespace Ketch.Client;

/// <summary>A client for ketch or any etcd v3 cluster. Thread-safe; create one per application and share it.
/// <example><code>
/// await using var client = new KetchClient(new KetchClientOptions { Endpoints = ["127.0.0.1:2379"] });
/// await client.Kv.PutAsync("k", "v");
/// var r = await client.Kv.GetAsync("k", new GetOptions { Prefix = true });
/// </code></example></summary>
public sealed class KetchClient : IAsyncDisposable, IDisposable
{
    private readonly Connection _conn;

    /// <summary>Creates a client. No connection is made until the first request.</summary>
    /// <param name="options">Endpoints, timeouts and retry settings.</param>
    public KetchClient(KetchClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _conn = new Connection(options);
        Kv = new KvClient(_conn);
        Watch = new WatchClient(_conn);
        Lease = new LeaseClient(_conn);
        Cluster = new ClusterClient(_conn);
        Maintenance = new MaintenanceClient(_conn);
        Auth = new AuthClient(_conn);
    }

    /// <summary>Creates a client for the given endpoints with default options.</summary>
    /// <param name="endpoints">Client URLs or host:port pairs.</param>
    public KetchClient(params string[] endpoints)
        : this(new KetchClientOptions { Endpoints = endpoints })
    {
    }

    /// <summary>The options in use.</summary>
    public KetchClientOptions Options => _conn.Options;

    /// <summary>The endpoints as absolute URIs.</summary>
    public IReadOnlyList<Uri> Endpoints => _conn.Endpoints;

    /// <summary>The endpoint requests currently go to.</summary>
    public Uri CurrentEndpoint => _conn.Endpoints[_conn.CurrentIndex];

    /// <summary>Key-value operations and transactions.</summary>
    public KvClient Kv { get; }

    /// <summary>Watches.</summary>
    public WatchClient Watch { get; }

    /// <summary>Leases.</summary>
    public LeaseClient Lease { get; }

    /// <summary>Cluster membership.</summary>
    public ClusterClient Cluster { get; }

    /// <summary>Maintenance of the current member.</summary>
    public MaintenanceClient Maintenance { get; }

    /// <summary>Authentication: enable/disable, tokens, users and roles.</summary>
    public AuthClient Auth { get; }

    /// <summary>A raw call invoker on the current endpoint, for services this client does not wrap
    /// (e.g. <c>v3lockpb.Lock</c>, <c>v3electionpb.Election</c>, Auth).</summary>
    /// <returns>The invoker.</returns>
    public CallInvoker CreateCallInvoker() => _conn.Invoker(_conn.CurrentIndex);

    /// <summary>Closes every connection.</summary>
    public void Dispose() => _conn.Dispose();

    /// <summary>Closes every connection.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        _conn.Dispose();
        return ValueTask.CompletedTask;
    }
}
