using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Bench.Workloads;

/// <summary>
/// <c>txn-put</c>: Txn requests without comparisons whose success branch holds <c>--txn-ops</c>
/// puts of distinct keys (etcd refuses a key twice in one txn): the keys following a chosen one.
/// </summary>
internal sealed class TxnPutWorkload : IWorkload
{
    public Task<RunResult> RunAsync(BenchContext context)
    {
        var sequence = new SharedCounter();
        var value = context.MakeValue();
        return UnaryRunner.RunAsync(context, "txn",
            (i, invoker) => new Client(new KV.KVClient(invoker), context.Options, new KeyMaker(context.Options, i, sequence), value));
    }

    private sealed class Client : IUnaryClient
    {
        private readonly KV.KVClient _kv;
        private readonly KeyMaker _first;
        private readonly byte[][] _keys;
        private readonly long _keySpace;
        private readonly TxnRequest _request = new();

        public Client(KV.KVClient kv, BenchOptions options, KeyMaker first, ByteString value)
        {
            _kv = kv;
            _first = first;
            _keySpace = options.KeySpace;
            _keys = new byte[options.TxnOps][];
            for (var i = 0; i < _keys.Length; i++)
            {
                _keys[i] = new byte[options.KeySizeBytes];
                _request.Success.Add(new RequestOp
                {
                    RequestPut = new PutRequest { Key = UnsafeByteOperations.UnsafeWrap(_keys[i]), Value = value },
                });
            }
        }

        public Task ExecuteAsync(CallOptions call)
        {
            var n = _first.Next();
            for (var i = 0; i < _keys.Length; i++)
            {
                KeyMaker.Write(_keys[i], (n + i) % _keySpace);
            }
            return _kv.TxnAsync(_request, call).ResponseAsync;
        }
    }
}
