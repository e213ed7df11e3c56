using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Bench.Workloads;

/// <summary>
/// <c>put</c>: Put requests of <c>--key-size</c>/<c>--val-size</c> bytes over <c>--key-space</c>
/// keys, random or (<c>--sequential-keys</c>) in order over all clients.
/// </summary>
internal sealed class PutWorkload : IWorkload
{
    public Task<RunResult> RunAsync(BenchContext context)
    {
        var sequence = new SharedCounter();
        var value = context.MakeValue();
        return UnaryRunner.RunAsync(context, "put",
            (i, invoker) => new Client(new KV.KVClient(invoker), new KeyMaker(context.Options, i, sequence), value));
    }

    private sealed class Client(KV.KVClient kv, KeyMaker keys, ByteString value) : IUnaryClient
    {
        // One request per client, reused: its key wraps the KeyMaker's buffer.
        private readonly PutRequest _request = new() { Key = keys.Key, Value = value };

        public Task ExecuteAsync(CallOptions call)
        {
            keys.Next();
            return kv.PutAsync(_request, call).ResponseAsync;
        }
    }
}
