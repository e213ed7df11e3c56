using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Bench.Workloads;

/// <summary>
/// <c>txn-mixed</c>: a mix of reads and writes over <c>--key-space</c> keys, as etcd's benchmark
/// does it: each operation is a Range (with probability <c>--read-ratio</c>, consistency from
/// <c>--consistency</c>) or a Put of a random key. All latencies share one histogram; each
/// kind's count and p50/p99 are reported as notes.
/// </summary>
internal sealed class TxnMixedWorkload : IWorkload
{
    public async Task<RunResult> RunAsync(BenchContext context)
    {
        var sequence = new SharedCounter();
        var value = context.MakeValue();
        var clients = new List<Client>();
        var result = await UnaryRunner.RunAsync(context, "op", (i, invoker) =>
        {
            var client = new Client(new KV.KVClient(invoker), context.Options, new KeyMaker(context.Options, i, sequence), value, i);
            clients.Add(client);
            return client;
        }).ConfigureAwait(false);
        var reads = new LatencyHistogram();
        var writes = new LatencyHistogram();
        foreach (var c in clients)
        {
            reads.Add(c.ReadLatency);
            writes.Add(c.WriteLatency);
        }
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return new RunResult
        {
            Options = result.Options,
            Unit = result.Unit,
            Elapsed = result.Elapsed,
            Latency = result.Latency,
            Errors = result.Errors,
            ClientCpuSeconds = result.ClientCpuSeconds,
            ServerCpuSeconds = result.ServerCpuSeconds,
            Notes =
            [
                new("reads", reads.Count.ToString(inv)),
                new("read latency p50 ms", (reads.ValueAtPercentile(50) / 1e6).ToString("F3", inv)),
                new("read latency p99 ms", (reads.ValueAtPercentile(99) / 1e6).ToString("F3", inv)),
                new("writes", writes.Count.ToString(inv)),
                new("write latency p50 ms", (writes.ValueAtPercentile(50) / 1e6).ToString("F3", inv)),
                new("write latency p99 ms", (writes.ValueAtPercentile(99) / 1e6).ToString("F3", inv)),
            ],
        };
    }

    private sealed class Client : IUnaryClient
    {
        private readonly KV.KVClient _kv;
        private readonly KeyMaker _keys;
        private readonly double _readRatio;
        private readonly Random _random;
        private readonly PutRequest _put;
        private readonly RangeRequest _range;

        public Client(KV.KVClient kv, BenchOptions options, KeyMaker keys, ByteString value, int index)
        {
            _kv = kv;
            _keys = keys;
            _readRatio = options.ReadRatio;
            _random = new Random(HashCode.Combine(options.Seed, index, "mix"));
            _put = new PutRequest { Key = keys.Key, Value = value };
            _range = new RangeRequest { Key = keys.Key, Serializable = options.Consistency == Consistency.Serializable };
        }

        /// <summary>Successful reads only; the runner's histogram has both kinds and the errors count.</summary>
        public LatencyHistogram ReadLatency { get; } = new();

        public LatencyHistogram WriteLatency { get; } = new();

        public async Task ExecuteAsync(CallOptions call)
        {
            _keys.Next();
            var start = Stopwatch.GetTimestamp();
            if (_random.NextDouble() < _readRatio)
            {
                await _kv.RangeAsync(_range, call).ResponseAsync.ConfigureAwait(false);
                ReadLatency.Record(BenchContext.ElapsedNs(start));
                return;
            }
            await _kv.PutAsync(_put, call).ResponseAsync.ConfigureAwait(false);
            WriteLatency.Record(BenchContext.ElapsedNs(start));
        }
    }
}
