using Google.Protobuf;

namespace Ketch.Bench.Workloads;

/// <summary>
/// <c>watch</c>: <c>--watchers</c> watchers over <c>--streams</c> streams on <c>--key-space</c>
/// keys; <c>--clients</c> putters write <c>--total</c> puts to those keys as fast as allowed
/// (<c>--rate</c>); reports the latency and rate of event delivery. See <see cref="WatchHarness"/>.
/// </summary>
internal sealed class WatchWorkload : IWorkload
{
    public Task<RunResult> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var keys = new ByteString[Math.Min(options.KeySpace, options.Watchers)];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = UnsafeByteOperations.UnsafeWrap(KeyMaker.KeyBytes(options.KeySizeBytes, i));
        }
        return new WatchHarness(context, n => keys[n], keys.Length, options.Clients).RunAsync();
    }
}
