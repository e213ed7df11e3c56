using System.Text;
using BenchmarkDotNet.Attributes;

namespace Ketch.Mvcc.Benchmarks;

/// <summary>One writer, 1,000 watchers on the written key: one put and its delivery to every watcher.</summary>
[MemoryDiagnoser]
public class WatchFanOutBenchmark
{
    private const int Watchers = 1_000;
    private readonly byte[] _key = Encoding.UTF8.GetBytes("/registry/leases/leader");
    private readonly byte[] _value = new byte[256];
    private readonly List<Watcher> _watchers = [];
    private string _dir = "";
    private KvStore _store = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "ketch-bench-" + Guid.NewGuid().ToString("N"));
        _store = KvStore.Open(new KvStoreOptions { Directory = _dir });
        for (var i = 0; i < Watchers; i++)
        {
            _watchers.Add(_store.Watch(new WatchRequest { Key = _key }));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>One put, then every watcher reads its event (completes synchronously: it is queued).</summary>
    [Benchmark]
    public long PutAndDeliverTo1000Watchers()
    {
        _store.Put(new PutRequest { Key = _key, Value = _value });
        long seen = 0;
        foreach (var w in _watchers)
        {
            var read = w.ReadAsync();
            var response = read.IsCompletedSuccessfully ? read.Result : read.AsTask().GetAwaiter().GetResult();
            seen += response!.Events.Count;
        }

        return seen;
    }
}
