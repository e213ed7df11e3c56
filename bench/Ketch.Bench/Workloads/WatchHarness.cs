using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Bench.Workloads;

/// <summary>
/// Shared by <c>watch</c> and <c>watch-latency</c>: opens <c>--streams</c> watch streams (spread
/// over the connections) carrying <c>--watchers</c> watchers, watcher i on key i mod keyCount;
/// waits until every watcher is created; then putter clients write those keys, each value
/// starting with the put's send time, and every event's latency is its arrival time minus that.
/// The run ends when every expected event has arrived, or <c>--timeout</c> after the last put.
/// </summary>
internal sealed class WatchHarness
{
    private readonly BenchContext _context;
    private readonly Func<long, ByteString> _keyOf;
    private readonly long _keyCount;
    private readonly int _putters;
    private readonly TaskCompletionSource _allCreated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _allArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _created;
    private long _expected;
    private long _received;
    private long _lastEventTimestamp;
    private int _putsDone;

    public WatchHarness(BenchContext context, Func<long, ByteString> keyOf, long keyCount, int putters)
    {
        _context = context;
        _keyOf = keyOf;
        _keyCount = keyCount;
        _putters = putters;
    }

    public async Task<RunResult> RunAsync()
    {
        var options = _context.Options;
        using var streamsCancel = CancellationTokenSource.CreateLinkedTokenSource(_context.Cancel);
        var streamStats = new ClientStats[options.Streams];
        var calls = new AsyncDuplexStreamingCall<WatchRequest, WatchResponse>[options.Streams];
        var readers = new Task[options.Streams];
        for (var s = 0; s < options.Streams; s++)
        {
            streamStats[s] = new ClientStats();
            calls[s] = new Watch.WatchClient(_context.Pool.InvokerFor(s)).Watch(cancellationToken: streamsCancel.Token);
            readers[s] = ReadAsync(calls[s], streamStats[s], streamsCancel.Token);
        }
        var createStart = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, options.Streams).Select(s => CreateWatchersAsync(calls[s], s))).ConfigureAwait(false);
        await _allCreated.Task.WaitAsync(options.CallTimeout + TimeSpan.FromSeconds(options.Watchers / 1000.0), _context.Cancel)
            .ConfigureAwait(false);
        var createElapsed = Stopwatch.GetElapsedTime(createStart);

        var putStats = new ClientStats[_putters];
        var budget = new OpBudget(options.Total, options.Duration, _context.Cancel);
        var limiter = new RateLimiter(options.RateOpsPerSecond);
        var sequence = new SharedCounter();
        var cpu = CpuSampler.Start(options);
        var start = Stopwatch.GetTimestamp();
        await using (new ProgressLine(options.Workload + " events", null, streamStats, options.Progress))
        {
            var loops = new Task[_putters];
            for (var i = 0; i < _putters; i++)
            {
                putStats[i] = new ClientStats();
                loops[i] = PutLoopAsync(new KV.KVClient(_context.Pool.InvokerFor(i)), i, sequence, putStats[i], budget, limiter);
            }
            await Task.WhenAll(loops).ConfigureAwait(false);
            Volatile.Write(ref _putsDone, 1);
            CheckArrived();
            try
            {
                await _allArrived.Task.WaitAsync(options.CallTimeout, _context.Cancel).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Reported below as missing events.
            }
        }
        var cpuUsed = cpu.Stop();
        var last = Volatile.Read(ref _lastEventTimestamp);
        var elapsed = last > start ? Stopwatch.GetElapsedTime(start, last) : Stopwatch.GetElapsedTime(start);

        foreach (var call in calls)
        {
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        await streamsCancel.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(readers).ConfigureAwait(false);
        foreach (var call in calls)
        {
            call.Dispose();
        }

        var puts = RunResult.Merge(options, "put", elapsed, putStats);
        var expected = Volatile.Read(ref _expected);
        var received = Volatile.Read(ref _received);
        var inv = CultureInfo.InvariantCulture;
        var notes = new List<KeyValuePair<string, string>>
        {
            new("watchers", options.Watchers.ToString(inv)),
            new("streams", options.Streams.ToString(inv)),
            new("watcher creation s", createElapsed.TotalSeconds.ToString("F3", inv)),
            new("puts", puts.Ops.ToString(inv)),
            new("put throughput ops/s", puts.ThroughputOpsPerSecond.ToString("F1", inv)),
            new("put latency p50 ms", (puts.Latency.ValueAtPercentile(50) / 1e6).ToString("F3", inv)),
            new("put latency p99 ms", (puts.Latency.ValueAtPercentile(99) / 1e6).ToString("F3", inv)),
            new("events expected", expected.ToString(inv)),
            new("events received", received.ToString(inv)),
            new("events missing", Math.Max(0, expected - received).ToString(inv)),
        };
        var result = RunResult.Merge(options, "event", elapsed, streamStats.Concat(putStats.Select(ErrorsOnly)), notes);
        return new RunResult
        {
            Options = result.Options,
            Unit = result.Unit,
            Elapsed = result.Elapsed,
            Latency = result.Latency,
            Errors = result.Errors,
            Notes = result.Notes,
            Missing = Math.Max(0, expected - received),
            ClientCpuSeconds = cpuUsed.ClientSeconds,
            ServerCpuSeconds = cpuUsed.ServerSeconds,
        };
    }

    /// <summary>The putters' errors count; their latencies are notes, not events.</summary>
    private static ClientStats ErrorsOnly(ClientStats put)
    {
        var errors = new ClientStats();
        for (var code = 0; code < ClientStats.StatusCodeCount; code++)
        {
            for (var n = 0; n < put.ErrorsByCode[code]; n++)
            {
                errors.RecordError((StatusCode)code, put.FirstDetailByCode[code]);
            }
        }
        return errors;
    }

    private long WatchersOn(long key)
    {
        var w = _context.Options.Watchers;
        return (w / _keyCount) + (key < w % _keyCount ? 1 : 0);
    }

    private async Task CreateWatchersAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, int stream)
    {
        var options = _context.Options;
        for (long i = stream; i < options.Watchers; i += options.Streams)
        {
            var request = new WatchRequest { CreateRequest = new WatchCreateRequest { Key = _keyOf(i % _keyCount) } };
            await call.RequestStream.WriteAsync(request, _context.Cancel).ConfigureAwait(false);
        }
    }

    private async Task ReadAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, ClientStats stats, CancellationToken cancel)
    {
        try
        {
            while (await call.ResponseStream.MoveNext(cancel).ConfigureAwait(false))
            {
                var response = call.ResponseStream.Current;
                if (response.Created && Interlocked.Increment(ref _created) == _context.Options.Watchers)
                {
                    _allCreated.TrySetResult();
                }
                if (response.Canceled)
                {
                    stats.RecordError(StatusCode.Cancelled);
                }
                var now = Stopwatch.GetTimestamp();
                foreach (var ev in response.Events)
                {
                    var value = ev.Kv.Value.Span;
                    if (value.Length >= sizeof(long))
                    {
                        stats.RecordSuccess(BenchContext.TicksToNs(now - BinaryPrimitives.ReadInt64LittleEndian(value)));
                    }
                }
                if (response.Events.Count > 0)
                {
                    Volatile.Write(ref _lastEventTimestamp, now);
                    Interlocked.Add(ref _received, response.Events.Count);
                    CheckArrived();
                }
            }
        }
        catch (RpcException e) when (cancel.IsCancellationRequested && e.StatusCode == StatusCode.Cancelled)
        {
            // We ended the stream.
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // We ended the stream.
        }
        catch (RpcException e)
        {
            stats.RecordError(e.StatusCode, e.Status.Detail);
        }
    }

    private void CheckArrived()
    {
        if (Volatile.Read(ref _putsDone) == 1 && Volatile.Read(ref _received) >= Volatile.Read(ref _expected))
        {
            _allArrived.TrySetResult();
        }
    }

    private async Task PutLoopAsync(KV.KVClient kv, int index, SharedCounter sequence, ClientStats stats, OpBudget budget, RateLimiter limiter)
    {
        await Task.Yield();
        var options = _context.Options;
        var random = new Random(HashCode.Combine(options.Seed, index));
        var valueBytes = new byte[Math.Max(sizeof(long), options.ValueSizeBytes)];
        var request = new PutRequest { Value = UnsafeByteOperations.UnsafeWrap(valueBytes) };
        while (budget.TryTake())
        {
            await limiter.WaitAsync(_context.Cancel).ConfigureAwait(false);
            var key = options.SequentialKeys ? sequence.Next() % _keyCount : random.NextInt64(_keyCount);
            request.Key = _keyOf(key);
            Interlocked.Add(ref _expected, WatchersOn(key));
            var start = Stopwatch.GetTimestamp();
            BinaryPrimitives.WriteInt64LittleEndian(valueBytes, start);
            try
            {
                await kv.PutAsync(request, deadline: DateTime.UtcNow + options.CallTimeout, cancellationToken: _context.Cancel)
                    .ResponseAsync.ConfigureAwait(false);
                stats.RecordSuccess(BenchContext.ElapsedNs(start));
            }
            catch (RpcException e)
            {
                // A failed put may still have been applied: its events then arrive unexpected.
                Interlocked.Add(ref _expected, -WatchersOn(key));
                stats.RecordError(e.StatusCode, e.Status.Detail);
            }
        }
    }
}
