using System.Diagnostics;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Ketch.Client;

namespace Ketch.Ctl.Check;

/// <summary>The statistics etcd's pkg/report computes over the successful requests (errors are counted apart):
/// requests per second over the whole run, slowest latency, population standard deviation, in seconds.</summary>
internal sealed record LatencyReport(long Count, double Rps, double SlowestSeconds, double StddevSeconds, IReadOnlyDictionary<string, long> Errors)
{
    public static LatencyReport From(IReadOnlyList<double> latencies, TimeSpan total, IReadOnlyDictionary<string, long> errors)
    {
        var n = latencies.Count;
        var average = n == 0 ? 0 : latencies.Sum() / n;
        var stddev = n == 0 ? 0 : Math.Sqrt(latencies.Sum(l => (l - average) * (l - average)) / n);
        return new LatencyReport(n, n / total.TotalSeconds, n == 0 ? 0 : latencies.Max(), stddev, errors);
    }
}

/// <summary>Puts from many clients, fed through one bounded queue as etcdctl's check commands do; measures each.</summary>
internal sealed class PutLoad(IReadOnlyList<KetchClient> clients)
{
    private readonly List<double> _latencies = [];
    private readonly Dictionary<string, long> _errors = [];
    private readonly Channel<(ByteString Key, ByteString Value)> _requests =
        Channel.CreateBounded<(ByteString, ByteString)>(clients.Count);

    /// <summary>Called after each request (the datascale progress counter).</summary>
    public Action? OnDone { get; init; }

    public ChannelWriter<(ByteString Key, ByteString Value)> Requests => _requests.Writer;

    /// <summary>Runs the workers until <see cref="Requests"/> is completed and drained; the report's total time
    /// runs from this call to the last answer, as pkg/report's.</summary>
    public async Task<LatencyReport> RunAsync()
    {
        var total = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(WorkAsync)).ConfigureAwait(false);
        lock (_latencies)
        {
            return LatencyReport.From([.. _latencies], total.Elapsed, new Dictionary<string, long>(_errors));
        }
    }

    private async Task WorkAsync(KetchClient client)
    {
        await foreach (var (key, value) in _requests.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            var sw = Stopwatch.StartNew();
            string? error = null;
            try
            {
                await client.Kv.PutAsync(key, value).ConfigureAwait(false);
            }
            catch (RpcException ex)
            {
                error = Runner.Describe(ex);
            }
            lock (_latencies)
            {
                if (error is null)
                {
                    _latencies.Add(sw.Elapsed.TotalSeconds);
                }
                else
                {
                    _errors[error] = _errors.GetValueOrDefault(error) + 1;
                }
            }
            OnDone?.Invoke();
        }
    }

    /// <summary>etcdctl's key: a 256- (perf) or 512-byte (datascale) buffer starting with Go's
    /// <c>binary.PutVarint</c> of a random non-negative int63 (zig-zag, then base-128), zeros after it.</summary>
    public static ByteString RandomKey(string prefix, int size)
    {
        var k = new byte[size];
        var v = (ulong)Random.Shared.NextInt64(long.MaxValue) << 1;
        var i = 0;
        while (v >= 0x80)
        {
            k[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        k[i] = (byte)v;
        return ByteString.CopyFrom([.. System.Text.Encoding.UTF8.GetBytes(prefix), .. k]);
    }
}
