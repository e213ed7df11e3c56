using System.Collections.Concurrent;
using System.Text;
using Grpc.Core;

namespace Ketch.Server.Http;

/// <summary>
/// go-grpc-prometheus' server series, which etcd exports and the usual etcd alerts read
/// (<c>grpc_server_handled_total{grpc_code!="OK"}</c> for failed requests):
/// <c>grpc_server_started_total</c> and <c>grpc_server_handled_total</c> per type, service, method
/// (and code), and, with <c>--metrics=extensive</c> as in etcd, the handling-time histogram
/// <c>grpc_server_handling_seconds</c>. One dictionary lookup per call.
/// </summary>
internal sealed class GrpcMetrics(bool extensive)
{
    private readonly ConcurrentDictionary<(string Method, string Type), PerMethod> _methods = new();

    public bool Extensive => extensive;

    /// <summary>Counts a call starting; the returned handle counts its end.</summary>
    public PerMethod Started(string fullMethod, string type)
    {
        var m = _methods.GetOrAdd((fullMethod, type), static k => new PerMethod(k.Method, k.Type));
        Interlocked.Increment(ref m.StartedCount);
        return m;
    }

    public void Render(StringBuilder sb)
    {
        var methods = _methods.Values.OrderBy(m => m.Service, StringComparer.Ordinal).ThenBy(m => m.Method, StringComparer.Ordinal).ToList();
        sb.Append("# HELP grpc_server_started_total Total number of RPCs started on the server.\n");
        sb.Append("# TYPE grpc_server_started_total counter\n");
        foreach (var m in methods)
        {
            sb.Append("grpc_server_started_total{").Append(m.Labels).Append("} ").Append(Interlocked.Read(ref m.StartedCount)).Append('\n');
        }
        sb.Append("# HELP grpc_server_handled_total Total number of RPCs completed on the server, regardless of success or failure.\n");
        sb.Append("# TYPE grpc_server_handled_total counter\n");
        foreach (var m in methods)
        {
            for (var code = 0; code < m.Handled.Length; code++)
            {
                var n = Interlocked.Read(ref m.Handled[code]);
                if (n > 0)
                {
                    sb.Append("grpc_server_handled_total{grpc_code=\"").Append(CodeName((StatusCode)code)).Append("\",").Append(m.Labels).Append("} ").Append(n).Append('\n');
                }
            }
        }
        if (extensive)
        {
            sb.Append("# HELP grpc_server_handling_seconds Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.\n");
            sb.Append("# TYPE grpc_server_handling_seconds histogram\n");
            foreach (var m in methods)
            {
                m.Latency.RenderSeries(sb, "grpc_server_handling_seconds", m.Labels);
            }
        }
    }

    /// <summary>The code's name as gRPC-Go prints it (<c>OK</c>, <c>NotFound</c>, <c>Unavailable</c>...).</summary>
    private static string CodeName(StatusCode code) => code switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "Canceled",
        _ => code.ToString(),
    };

    /// <summary>The counters of one method of one call type.</summary>
    public sealed class PerMethod
    {
        public PerMethod(string fullMethod, string type)
        {
            // "/etcdserverpb.KV/Range": service etcdserverpb.KV, method Range.
            var slash = fullMethod.LastIndexOf('/');
            Service = fullMethod[1..slash];
            Method = fullMethod[(slash + 1)..];
            Labels = $"grpc_method=\"{Method}\",grpc_service=\"{Service}\",grpc_type=\"{type}\"";
        }

        public string Service { get; }

        public string Method { get; }

        public string Labels { get; }

        public long StartedCount;

        public readonly long[] Handled = new long[17];

        public Histogram Latency { get; } = new(Histogram.GrpcBuckets);

        public void Finished(StatusCode code, TimeSpan elapsed, bool extensive)
        {
            Interlocked.Increment(ref Handled[(int)code < Handled.Length ? (int)code : (int)StatusCode.Unknown]);
            if (extensive)
            {
                Latency.Observe(elapsed);
            }
        }
    }
}
