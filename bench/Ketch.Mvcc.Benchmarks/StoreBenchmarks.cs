using System.Text;
using BenchmarkDotNet.Attributes;

namespace Ketch.Mvcc.Benchmarks;

/// <summary>
/// Hot paths of the store without Raft and without fsync (SyncWrites off, batched commits of
/// 10,000 operations). Each benchmark runs <see cref="Ops"/> operations per invocation, so the
/// reported mean is per operation.
/// </summary>
[MemoryDiagnoser]
public class StoreBenchmarks
{
    private const int Ops = 10_000;
    private const int KeyCount = 10_000;
    private readonly byte[][] _keys = new byte[KeyCount][];
    private readonly byte[] _value = new byte[256];
    private string _dir = "";
    private KvStore _store = null!;
    private RangeRequest _prefixRange = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "ketch-bench-" + Guid.NewGuid().ToString("N"));
        _store = KvStore.Open(new KvStoreOptions { Directory = _dir });
        Random.Shared.NextBytes(_value);
        for (var i = 0; i < KeyCount; i++)
        {
            _keys[i] = Encoding.UTF8.GetBytes($"/registry/pods/{i:D6}");
            _store.Put(new PutRequest { Key = _keys[i], Value = _value });
        }

        // 1,000 keys under one prefix, the others outside it.
        _prefixRange = new RangeRequest { Key = Encoding.UTF8.GetBytes("/registry/pods/001"), RangeEnd = Encoding.UTF8.GetBytes("/registry/pods/002") };
        _store.Commit();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Put()
    {
        for (var i = 0; i < Ops; i++)
        {
            _store.Put(new PutRequest { Key = _keys[i % KeyCount], Value = _value });
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public long RangeSingleKey()
    {
        long n = 0;
        for (var i = 0; i < Ops; i++)
        {
            n += _store.Range(new RangeRequest { Key = _keys[(i * 7919) % KeyCount] }).Count;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = 100)]
    public long RangePrefix1000()
    {
        long n = 0;
        for (var i = 0; i < 100; i++)
        {
            n += _store.Range(_prefixRange).Kvs.Count;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public bool Txn()
    {
        var ok = true;
        for (var i = 0; i < Ops; i++)
        {
            var key = _keys[i % KeyCount];
            ok &= _store.Txn(new TxnRequest
            {
                Compares = [new Compare { Key = key, Target = CompareTarget.Version, Result = CompareResult.Greater, Number = 0 }],
                Success = [new RequestOp { Put = new PutRequest { Key = key, Value = _value } }],
            }).Succeeded;
        }

        return ok;
    }
}
