using System.Collections.Concurrent;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace Ketch.Server.Http;

/// <summary>
/// The gRPC series etcd exports, which the usual etcd dashboards and alerts read
/// (<c>grpc_server_handled_total{grpc_code!="OK"}</c> for failed requests): go-grpc-prometheus'
/// <c>grpc_server_started_total</c>, <c>grpc_server_handled_total</c> (by code),
/// <c>grpc_server_msg_received_total</c> and <c>grpc_server_msg_sent_total</c> per type, service
/// and method, with <c>--metrics=extensive</c> the handling-time histogram
/// <c>grpc_server_handling_seconds</c>; and etcd's own <c>etcd_network_client_grpc_*_bytes_total</c>
/// (protobuf-encoded sizes of the messages) and <c>etcd_server_client_requests_total</c> by the
/// client's <c>client-api-version</c>.
/// </summary>
/// <remarks>
/// As etcd does, every method of the served services is listed from the start with 0 (and every
/// code of it in <c>grpc_server_handled_total</c>), so that rates and alerts have a series before the
/// first call. Counting is one dictionary lookup per call and Interlocked increments.
/// </remarks>
internal sealed class GrpcMetrics
{
    /// <summary>The services KetchServer maps (its MapGrpcService calls): their methods are listed
    /// before any call. A service mapped but missing here is still counted, from its first call.
    /// etcd 3.4 lists its six etcdserverpb services and Health from the start, and its election and
    /// lock services only once called; we list ours all.</summary>
    private static readonly ServiceDescriptor[] Served =
    [
        global::Ketch.Api.Etcdserverpb.KV.Descriptor,
        global::Ketch.Api.Etcdserverpb.Watch.Descriptor,
        global::Ketch.Api.Etcdserverpb.Lease.Descriptor,
        global::Ketch.Api.Etcdserverpb.Cluster.Descriptor,
        global::Ketch.Api.Etcdserverpb.Maintenance.Descriptor,
        global::Ketch.Api.Etcdserverpb.Auth.Descriptor,
        global::Ketch.Api.V3electionpb.Election.Descriptor,
        global::Ketch.Api.V3lockpb.Lock.Descriptor,
        global::Grpc.Health.V1.Health.Descriptor,
    ];

    /// <summary>The 17 codes in the order Prometheus' Go client prints them: by name.</summary>
    private static readonly StatusCode[] CodesByName =
        [.. Enumerable.Range(0, 17).Select(c => (StatusCode)c).OrderBy(CodeName, StringComparer.Ordinal)];

    /// <summary>How many distinct <c>client-api-version</c> values get their own series: the value
    /// comes from the client, and a label per value would let clients grow /metrics without bound.
    /// Values beyond these are counted as <c>unknown</c>.</summary>
    private const int MaxClientVersions = 64;

    /// <summary>Keyed by the full method name as gRPC gives it (<c>/etcdserverpb.KV/Range</c>).</summary>
    private readonly ConcurrentDictionary<string, PerMethod> _methods = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ClientVersion> _clientVersions = new(StringComparer.Ordinal);
    private readonly ClientVersion _unknownVersion = new("unknown");
    private int _clientVersionCount;
    private long _receivedBytes;
    private long _sentBytes;

    public GrpcMetrics(bool extensive)
    {
        Extensive = extensive;
        foreach (var service in Served)
        {
            foreach (var method in service.Methods)
            {
                var full = "/" + service.FullName + "/" + method.Name;
                _methods[full] = new PerMethod(this, full, TypeOf(method.IsClientStreaming, method.IsServerStreaming));
            }
        }
    }

    public bool Extensive { get; }

    /// <summary>The full name of the unary method of the served services that takes
    /// <paramref name="request"/> (each takes its own request type), or null: the JSON gateway
    /// counts its calls under the method it stands for, as etcd's gateway calls it over gRPC.</summary>
    public static string? UnaryMethodTaking(MessageDescriptor request) =>
        Served.SelectMany(s => s.Methods.Where(m => !m.IsClientStreaming && !m.IsServerStreaming && m.InputType == request)
            .Select(m => "/" + s.FullName + "/" + m.Name)).SingleOrDefault();

    /// <summary>go-grpc-prometheus' <c>grpc_type</c> of a method.</summary>
    public static string TypeOf(bool clientStreaming, bool serverStreaming) => (clientStreaming, serverStreaming) switch
    {
        (false, false) => "unary",
        (false, true) => "server_stream",
        (true, false) => "client_stream",
        (true, true) => "bidi_stream",
    };

    /// <summary>Counts a call starting, under its method and under the client's API version
    /// (the <c>client-api-version</c> request header, or null); the returned handle counts its
    /// messages and its end. <paramref name="type"/> is used for a method not listed from the start.</summary>
    public PerMethod Started(string fullMethod, string type, string? clientApiVersion)
    {
        if (!_methods.TryGetValue(fullMethod, out var m))
        {
            m = _methods.GetOrAdd(fullMethod, static (k, a) => new PerMethod(a.Owner, k, a.Type), (Owner: this, Type: type));
        }
        Interlocked.Increment(ref m.StartedCount);
        var client = clientApiVersion is null ? _unknownVersion : ClientVersionOf(clientApiVersion);
        Interlocked.Increment(ref type == "unary" ? ref client.Unary : ref client.Stream);
        return m;
    }

    private ClientVersion ClientVersionOf(string version)
    {
        if (_clientVersions.TryGetValue(version, out var v))
        {
            return v;
        }
        // Our own count: ConcurrentDictionary.Count takes every lock. A race may admit a few more.
        if (version == "unknown" || Volatile.Read(ref _clientVersionCount) >= MaxClientVersions)
        {
            return _unknownVersion;
        }
        return _clientVersions.GetOrAdd(version, static (k, self) =>
        {
            Interlocked.Increment(ref self._clientVersionCount);
            return new ClientVersion(k);
        }, this);
    }

    public void Render(StringBuilder sb)
    {
        sb.Append("# HELP etcd_network_client_grpc_received_bytes_total The total number of bytes received from grpc clients.\n");
        sb.Append("# TYPE etcd_network_client_grpc_received_bytes_total counter\n");
        sb.Append("etcd_network_client_grpc_received_bytes_total ").Append(Interlocked.Read(ref _receivedBytes)).Append('\n');
        sb.Append("# HELP etcd_network_client_grpc_sent_bytes_total The total number of bytes sent to grpc clients.\n");
        sb.Append("# TYPE etcd_network_client_grpc_sent_bytes_total counter\n");
        sb.Append("etcd_network_client_grpc_sent_bytes_total ").Append(Interlocked.Read(ref _sentBytes)).Append('\n');
        RenderClientRequests(sb);

        // Ordered as Prometheus' Go client orders series: by the label values, labels by name.
        var methods = _methods.Values.OrderBy(m => m.Method, StringComparer.Ordinal).ThenBy(m => m.Service, StringComparer.Ordinal).ToList();
        sb.Append("# HELP grpc_server_handled_total Total number of RPCs completed on the server, regardless of success or failure.\n");
        sb.Append("# TYPE grpc_server_handled_total counter\n");
        foreach (var code in CodesByName)
        {
            foreach (var m in methods)
            {
                sb.Append("grpc_server_handled_total{grpc_code=\"").Append(CodeName(code)).Append("\",").Append(m.Labels).Append("} ")
                    .Append(Interlocked.Read(ref m.Handled[(int)code])).Append('\n');
            }
        }
        if (Extensive)
        {
            sb.Append("# HELP grpc_server_handling_seconds Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.\n");
            sb.Append("# TYPE grpc_server_handling_seconds histogram\n");
            foreach (var m in methods)
            {
                m.Latency.RenderSeries(sb, "grpc_server_handling_seconds", m.Labels);
            }
        }
        PerMethodCounter(sb, methods, "grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.", static m => ref m.MsgReceived);
        PerMethodCounter(sb, methods, "grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.", static m => ref m.MsgSent);
        PerMethodCounter(sb, methods, "grpc_server_started_total", "Total number of RPCs started on the server.", static m => ref m.StartedCount);
    }

    private delegate ref long CounterOf(PerMethod m);

    private static void PerMethodCounter(StringBuilder sb, List<PerMethod> methods, string name, string help, CounterOf counter)
    {
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        sb.Append("# TYPE ").Append(name).Append(" counter\n");
        foreach (var m in methods)
        {
            sb.Append(name).Append('{').Append(m.Labels).Append("} ").Append(Interlocked.Read(ref counter(m))).Append('\n');
        }
    }

    /// <summary>Only the version and type pairs counted so far, as etcd's (a series appears with its
    /// first request).</summary>
    private void RenderClientRequests(StringBuilder sb)
    {
        var lines = new List<(string Version, string Type, long N)>();
        foreach (var v in _clientVersions.Values.Append(_unknownVersion))
        {
            var unary = Interlocked.Read(ref v.Unary);
            var stream = Interlocked.Read(ref v.Stream);
            if (stream > 0)
            {
                lines.Add((v.Label, "stream", stream));
            }
            if (unary > 0)
            {
                lines.Add((v.Label, "unary", unary));
            }
        }
        if (lines.Count == 0)
        {
            return;
        }
        sb.Append("# HELP etcd_server_client_requests_total The total number of client requests per client version.\n");
        sb.Append("# TYPE etcd_server_client_requests_total counter\n");
        foreach (var (version, type, n) in lines.OrderBy(l => l.Version, StringComparer.Ordinal).ThenBy(l => l.Type, StringComparer.Ordinal))
        {
            sb.Append("etcd_server_client_requests_total{client_api_version=\"").Append(version).Append("\",type=\"").Append(type).Append("\"} ")
                .Append(n).Append('\n');
        }
    }

    /// <summary>The code's name as gRPC-Go prints it (<c>OK</c>, <c>NotFound</c>, <c>Canceled</c>...).</summary>
    private static string CodeName(StatusCode code) => code switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "Canceled",
        _ => code.ToString(),
    };

    /// <summary>A label value in the text format: backslash, quote and newline escaped.</summary>
    private static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static long SizeOf(object message) => message is IMessage m ? m.CalculateSize() : 0;

    /// <summary>The requests of one client API version, unary and streaming.</summary>
    private sealed class ClientVersion(string version)
    {
        public string Label { get; } = EscapeLabel(version);

        public long Unary;

        public long Stream;
    }

    /// <summary>The counters of one method.</summary>
    public sealed class PerMethod
    {
        private readonly GrpcMetrics _owner;

        public PerMethod(GrpcMetrics owner, string fullMethod, string type)
        {
            _owner = owner;
            // "/etcdserverpb.KV/Range": service etcdserverpb.KV, method Range.
            var slash = fullMethod.LastIndexOf('/');
            Service = fullMethod[1..slash];
            Method = fullMethod[(slash + 1)..];
            Labels = $"grpc_method=\"{EscapeLabel(Method)}\",grpc_service=\"{EscapeLabel(Service)}\",grpc_type=\"{type}\"";
        }

        public string Service { get; }

        public string Method { get; }

        public string Labels { get; }

        public long StartedCount;

        public long MsgReceived;

        public long MsgSent;

        public readonly long[] Handled = new long[17];

        public Histogram Latency { get; } = new(Histogram.GrpcBuckets);

        /// <summary>A request message read: one message, its encoded size in bytes.</summary>
        public void Received(object message)
        {
            Interlocked.Increment(ref MsgReceived);
            Interlocked.Add(ref _owner._receivedBytes, SizeOf(message));
        }

        /// <summary>A response message sent: one message, its encoded size in bytes.</summary>
        public void Sent(object message)
        {
            Interlocked.Increment(ref MsgSent);
            Interlocked.Add(ref _owner._sentBytes, SizeOf(message));
        }

        /// <summary>The call ended with <paramref name="code"/>; as go-grpc-prometheus, the
        /// histogram (extensive only) times every kind of call, streams included.</summary>
        public void Finished(StatusCode code, TimeSpan elapsed)
        {
            Interlocked.Increment(ref Handled[(uint)code < (uint)Handled.Length ? (int)code : (int)StatusCode.Unknown]);
            if (_owner.Extensive)
            {
                Latency.Observe(elapsed);
            }
        }
    }
}
