using Grpc.Core;

namespace Ketch.Bench;

/// <summary>The merged outcome of a run, ready for <see cref="Report"/>.</summary>
internal sealed class RunResult
{
    public required BenchOptions Options { get; init; }

    /// <summary>What one operation is in this workload ("put", "event", "keep-alive", ...).</summary>
    public required string Unit { get; init; }

    public required TimeSpan Elapsed { get; init; }

    public required LatencyHistogram Latency { get; init; }

    /// <summary>Failed operations by gRPC status code; no entry for codes that never occurred.</summary>
    public required IReadOnlyDictionary<StatusCode, long> Errors { get; init; }

    /// <summary>The first error message seen for each code in <see cref="Errors"/>, where the error had one.</summary>
    public IReadOnlyDictionary<StatusCode, string> ErrorDetails { get; init; } = new Dictionary<StatusCode, string>();

    /// <summary>Extra facts of the workload (watch: events expected and received, ...), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Notes { get; init; } = [];

    /// <summary>Operations that should have completed and never did (watch: events that never arrived).</summary>
    public long Missing { get; init; }

    /// <summary>CPU seconds this process used over the measured window.</summary>
    public double ClientCpuSeconds { get; init; }

    /// <summary>CPU seconds the <c>--cpu-pids</c> processes used over the measured window; null without them.</summary>
    public double? ServerCpuSeconds { get; init; }

    public long Ops => Latency.Count;

    public long ErrorCount => Errors.Values.Sum();

    /// <summary>Client CPU per completed operation, µs.</summary>
    public double ClientCpuUsPerOp => Ops == 0 ? 0 : ClientCpuSeconds * 1e6 / Ops;

    /// <summary>Server CPU per completed operation, µs; null without <c>--cpu-pids</c>.</summary>
    public double? ServerCpuUsPerOp => ServerCpuSeconds is { } s && Ops > 0 ? s * 1e6 / Ops : null;

    public double ThroughputOpsPerSecond => Elapsed.TotalSeconds <= 0 ? 0 : Ops / Elapsed.TotalSeconds;

    public static RunResult Merge(BenchOptions options, string unit, TimeSpan elapsed, IEnumerable<ClientStats> stats,
        IReadOnlyList<KeyValuePair<string, string>>? notes = null, (double Client, double? Server) cpu = default)
    {
        var latency = new LatencyHistogram();
        var errors = new long[ClientStats.StatusCodeCount];
        var details = new SortedDictionary<StatusCode, string>();
        foreach (var s in stats)
        {
            latency.Add(s.Latency);
            for (var i = 0; i < errors.Length; i++)
            {
                errors[i] += s.ErrorsByCode[i];
                if (s.FirstDetailByCode[i] is { Length: > 0 } detail)
                {
                    details.TryAdd((StatusCode)i, detail);
                }
            }
        }
        var byCode = new SortedDictionary<StatusCode, long>();
        for (var i = 0; i < errors.Length; i++)
        {
            if (errors[i] != 0)
            {
                byCode[(StatusCode)i] = errors[i];
            }
        }
        return new RunResult
        {
            Options = options,
            Unit = unit,
            Elapsed = elapsed,
            Latency = latency,
            Errors = byCode,
            ErrorDetails = details,
            Notes = notes ?? [],
            ClientCpuSeconds = cpu.Client,
            ServerCpuSeconds = cpu.Server,
        };
    }
}
