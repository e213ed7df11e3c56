using Grpc.Core;

namespace Ketch.Bench;

/// <summary>
/// What one client (or one watch stream) measured. Written by that client only, so recording
/// needs no lock; the progress line reads <see cref="Completed"/> and <see cref="Errors"/>.
/// </summary>
internal sealed class ClientStats
{
    /// <summary>gRPC status codes run 0 (OK) to 16 (Unauthenticated).</summary>
    internal const int StatusCodeCount = 17;

    private long _completed;
    private long _errors;

    public LatencyHistogram Latency { get; } = new();

    public long[] ErrorsByCode { get; } = new long[StatusCodeCount];

    /// <summary>The first error message seen for each code ("etcdserver: leader changed", ...): a count by
    /// code alone cannot tell a leader election from a full queue, and both are Unavailable.</summary>
    public string?[] FirstDetailByCode { get; } = new string?[StatusCodeCount];

    public long Completed => Volatile.Read(ref _completed);

    public long Errors => Volatile.Read(ref _errors);

    public void RecordSuccess(long latencyNs)
    {
        Latency.Record(latencyNs);
        Volatile.Write(ref _completed, _completed + 1);
    }

    public void RecordError(StatusCode code, string? detail = null)
    {
        var i = (int)code;
        i = i is >= 0 and < StatusCodeCount ? i : (int)StatusCode.Unknown;
        ErrorsByCode[i]++;
        FirstDetailByCode[i] ??= detail;
        Volatile.Write(ref _errors, _errors + 1);
        Volatile.Write(ref _completed, _completed + 1);
    }
}
