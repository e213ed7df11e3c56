using System.Diagnostics;
using System.Runtime;
using Microsoft.Extensions.Logging;

namespace Ketch.Server;

/// <summary>
/// Gives back the memory a member's open leaves behind. Opening replays the whole retained WAL
/// (every entry of up to --max-wals + 1 segments of 64 MiB, read whole, decoded as objects) and
/// rebuilds the key index from every record of the backend; all but the index and the last
/// snapshot's worth of log is garbage once the open returns, much of it in gen2 and the
/// large-object heap. An idle member allocates too little to trigger the gen2 collection that
/// would reclaim it, and the GC keeps what it committed: after loading 1,000,000 keys of 256 B
/// and restarting, 585 MiB RSS with 284 MB in gen2 (54 MB of it free space) and 90 MB of LOH,
/// against 470 MiB after one compacting collection (dotnet-counters, then dotnet-gcdump, whose
/// forced collection did exactly that). So one blocking, compacting, decommitting collection runs
/// once after the open, before the member serves anything, when the open allocated enough to matter.
/// </summary>
internal static partial class StartupHeap
{
    /// <summary>Below this much allocated by the open, a collection is not worth its pause
    /// (small members, in-process test clusters).</summary>
    internal const long ThresholdBytes = 64L << 20;

    /// <summary>Compacts the heap when <paramref name="allocatedBytes"/> (allocated by the open) passes
    /// <see cref="ThresholdBytes"/>; true when it did.</summary>
    public static bool CompactAfterOpen(long allocatedBytes, ILogger log)
    {
        if (allocatedBytes < ThresholdBytes)
        {
            return false;
        }

        var before = GC.GetTotalMemory(forceFullCollection: false);
        var watch = Stopwatch.StartNew();
        // Aggressive: compacts every generation, the LOH included, and decommits the free space.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        watch.Stop();
        LogCompacted(log, allocatedBytes >> 20, before >> 20, GC.GetTotalMemory(forceFullCollection: false) >> 20,
            watch.ElapsedMilliseconds);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "storage opened ({AllocatedMiB} MiB allocated): heap compacted from {BeforeMiB} to {AfterMiB} MiB in {PauseMs} ms")]
    private static partial void LogCompacted(ILogger log, long allocatedMiB, long beforeMiB, long afterMiB, long pauseMs);
}
