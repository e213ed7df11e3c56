using System.Text;
using Google.Protobuf;

namespace Ketch.Bench.Workloads;

/// <summary>
/// <c>watch-latency</c>: every one of <c>--watchers</c> watchers (over <c>--streams</c> streams)
/// watches the one key <c>--key</c>; a single putter writes it <c>--total</c> times at a steady
/// <c>--rate</c> (100/s unless given), so each put fans out to all watchers on an otherwise idle
/// server; reports the put-to-event latency of every event.
/// </summary>
internal sealed class WatchLatencyWorkload : IWorkload
{
    public Task<RunResult> RunAsync(BenchContext context)
    {
        var key = ByteString.CopyFrom(Encoding.UTF8.GetBytes(context.Options.Key));
        return new WatchHarness(context, _ => key, 1, putters: 1).RunAsync();
    }
}
