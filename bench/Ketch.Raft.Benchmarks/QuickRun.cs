using System.Diagnostics;

namespace Ketch.Raft.Benchmarks;

/// <summary>
/// A plain timed loop over the same workload as <see cref="CommitBenchmarks"/>, reporting
/// committed proposals per second and bytes allocated per proposal; useful for a quick look
/// and under a profiler. BenchmarkDotNet remains the reference.
/// </summary>
public static class QuickRun
{
    public static void Run(string[] args)
    {
        var seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 3;
        foreach (var batchSize in new[] { 1, 16, 256 })
        {
            var cluster = new InMemoryCluster(3);
            var payload = new byte[64];
            var batch = Enumerable.Repeat((ReadOnlyMemory<byte>)payload, batchSize).ToArray();
            // Warm up.
            for (var i = 0; i < 20_000 / batchSize; i++)
            {
                cluster.Leader.Propose(batch);
                cluster.Pump();
            }
            var start = cluster.LeaderApplied;
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            long proposals = 0;
            while (sw.Elapsed.TotalSeconds < seconds)
            {
                for (var i = 0; i < 64; i++)
                {
                    cluster.Leader.Propose(batch);
                    cluster.Pump();
                    proposals += batchSize;
                }
            }
            sw.Stop();
            var bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
            var applied = cluster.LeaderApplied - start;
            Console.WriteLine($"batch {batchSize,4}: {proposals / sw.Elapsed.TotalSeconds,12:N0} proposals/s, {(double)bytes / proposals,8:N1} B allocated/proposal, applied {applied:N0} of {proposals:N0}");
        }
    }
}
