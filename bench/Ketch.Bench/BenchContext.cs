using System.Diagnostics;
using Google.Protobuf;

namespace Ketch.Bench;

/// <summary>What a workload runs with: the options, the connections, and the run's cancellation.</summary>
internal sealed class BenchContext(BenchOptions options, ChannelPool pool, CancellationToken cancel)
{
    private static readonly double s_nsPerTick = 1e9 / Stopwatch.Frequency;

    public BenchOptions Options { get; } = options;

    public ChannelPool Pool { get; } = pool;

    public CancellationToken Cancel { get; } = cancel;

    public static long ElapsedNs(long startTimestamp) => (long)((Stopwatch.GetTimestamp() - startTimestamp) * s_nsPerTick);

    public static long TicksToNs(long ticks) => (long)(ticks * s_nsPerTick);

    /// <summary>A value of <c>--val-size</c> seeded random bytes, shared read-only by all clients.</summary>
    public ByteString MakeValue()
    {
        var bytes = new byte[Options.ValueSizeBytes];
        new Random(Options.Seed).NextBytes(bytes);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }
}
