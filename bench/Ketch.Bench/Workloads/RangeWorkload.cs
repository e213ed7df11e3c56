using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Bench.Workloads;

/// <summary>
/// <c>range</c>: the same Range over and over: the single key <c>--key</c> (written once with a
/// <c>--val-size</c> value before the run, so the reply carries it) or, with <c>--prefix</c>,
/// every key starting with <c>--key</c>; linearizable or serializable (<c>--consistency</c>).
/// </summary>
internal sealed class RangeWorkload : IWorkload
{
    public async Task<RunResult> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var key = ByteString.CopyFrom(Encoding.UTF8.GetBytes(options.Key));
        var rangeEnd = options.Prefix ? PrefixEnd(key) : ByteString.Empty;
        if (!options.Prefix)
        {
            var kv = new KV.KVClient(context.Pool.InvokerFor(0));
            await kv.PutAsync(new PutRequest { Key = key, Value = context.MakeValue() },
                deadline: DateTime.UtcNow + options.CallTimeout, cancellationToken: context.Cancel).ResponseAsync.ConfigureAwait(false);
        }
        var request = new RangeRequest { Key = key, Serializable = options.Consistency == Consistency.Serializable };
        if (!rangeEnd.IsEmpty)
        {
            request.RangeEnd = rangeEnd; // a range_end sent empty would read every key from the key on
        }
        return await UnaryRunner.RunAsync(context, "range", (_, invoker) => new Client(new KV.KVClient(invoker), request)).ConfigureAwait(false);
    }

    /// <summary>The end of the range of keys starting with <paramref name="prefix"/> (etcd's GetPrefixRangeEnd).</summary>
    internal static ByteString PrefixEnd(ByteString prefix)
    {
        var end = prefix.ToByteArray();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return ByteString.CopyFrom(end.AsSpan(0, i + 1));
            }
        }
        // All 0xff (or empty): every key from the prefix on.
        return ByteString.CopyFrom(0);
    }

    private sealed class Client(KV.KVClient kv, RangeRequest request) : IUnaryClient
    {
        public Task ExecuteAsync(CallOptions call) => kv.RangeAsync(request, call).ResponseAsync;
    }
}
