using System.Diagnostics;
using Grpc.Core;

namespace Ketch.Bench.Workloads;

/// <summary>
/// The closed loop shared by request/response workloads: each of <c>--clients</c> clients takes
/// an operation from the budget, waits for the rate limiter, sends, awaits the reply and records
/// its latency or its status code. Nothing is allocated here per operation beyond the call itself.
/// </summary>
internal static class UnaryRunner
{
    public static async Task<RunResult> RunAsync(BenchContext context, string unit, Func<int, CallInvoker, IUnaryClient> createClient,
        IReadOnlyList<KeyValuePair<string, string>>? notes = null)
    {
        var options = context.Options;
        var clients = new IUnaryClient[options.Clients];
        var stats = new ClientStats[options.Clients];
        for (var i = 0; i < clients.Length; i++)
        {
            clients[i] = createClient(i, context.Pool.InvokerFor(i));
            stats[i] = new ClientStats();
        }
        var limiter = new RateLimiter(options.RateOpsPerSecond);
        if (options.Warmup > TimeSpan.Zero)
        {
            // Same clients and connections, results thrown away: JIT, connection setup and
            // server caches are warm when the measured run starts.
            var warm = new ClientStats[clients.Length];
            var warmBudget = new OpBudget(null, options.Warmup, context.Cancel);
            await Task.WhenAll(clients.Select((c, i) => ClientLoopAsync(c, warm[i] = new ClientStats(), warmBudget, limiter,
                options.CallTimeout, context.Cancel))).ConfigureAwait(false);
        }
        var budget = new OpBudget(options.Total, options.Duration, context.Cancel);
        var cpu = CpuSampler.Start(options);
        var start = Stopwatch.GetTimestamp();
        await using (new ProgressLine(options.Workload, options.Total, stats, options.Progress))
        {
            var loops = new Task[clients.Length];
            for (var i = 0; i < clients.Length; i++)
            {
                loops[i] = ClientLoopAsync(clients[i], stats[i], budget, limiter, options.CallTimeout, context.Cancel);
            }
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        var elapsed = Stopwatch.GetElapsedTime(start);
        return RunResult.Merge(options, unit, elapsed, stats, notes, cpu.Stop());
    }

    private static async Task ClientLoopAsync(IUnaryClient client, ClientStats stats, OpBudget budget, RateLimiter limiter,
        TimeSpan timeout, CancellationToken cancel)
    {
        // Let the caller start every client before any of them runs.
        await Task.Yield();
        while (budget.TryTake())
        {
            await limiter.WaitAsync(cancel).ConfigureAwait(false);
            var start = Stopwatch.GetTimestamp();
            try
            {
                await client.ExecuteAsync(new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancel)).ConfigureAwait(false);
                stats.RecordSuccess(BenchContext.ElapsedNs(start));
            }
            catch (RpcException e)
            {
                stats.RecordError(e.StatusCode, e.Status.Detail);
            }
        }
    }
}
