using System.Diagnostics;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Bench.Workloads;

/// <summary>
/// <c>lease-keepalive</c>: each of <c>--clients</c> clients grants a lease of <c>--lease-ttl</c>
/// seconds, opens its own LeaseKeepAlive stream and renews the lease over it, one request in
/// flight at a time; the latency is request written to reply read. Leases are revoked at the end.
/// </summary>
internal sealed class LeaseKeepAliveWorkload : IWorkload
{
    public async Task<RunResult> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var stats = new ClientStats[options.Clients];
        for (var i = 0; i < stats.Length; i++)
        {
            stats[i] = new ClientStats();
        }
        var budget = new OpBudget(options.Total, options.Duration, context.Cancel);
        var limiter = new RateLimiter(options.RateOpsPerSecond);
        var cpu = CpuSampler.Start(options);
        var start = Stopwatch.GetTimestamp();
        await using (new ProgressLine(options.Workload, options.Total, stats, options.Progress))
        {
            await Task.WhenAll(stats.Select((s, i) =>
                ClientAsync(new Lease.LeaseClient(context.Pool.InvokerFor(i)), s, budget, limiter, context))).ConfigureAwait(false);
        }
        var elapsed = Stopwatch.GetElapsedTime(start);
        return RunResult.Merge(options, "keep-alive", elapsed, stats, cpu: cpu.Stop());
    }

    private static async Task ClientAsync(Lease.LeaseClient lease, ClientStats stats, OpBudget budget, RateLimiter limiter, BenchContext context)
    {
        await Task.Yield();
        var options = context.Options;
        long id;
        try
        {
            var grant = await lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = options.LeaseTtlSeconds },
                deadline: DateTime.UtcNow + options.CallTimeout, cancellationToken: context.Cancel).ResponseAsync.ConfigureAwait(false);
            id = grant.ID;
        }
        catch (RpcException e)
        {
            stats.RecordError(e.StatusCode, e.Status.Detail);
            return;
        }
        var request = new LeaseKeepAliveRequest { ID = id };
        using (var call = lease.LeaseKeepAlive(cancellationToken: context.Cancel))
        {
            try
            {
                while (budget.TryTake())
                {
                    await limiter.WaitAsync(context.Cancel).ConfigureAwait(false);
                    var t0 = Stopwatch.GetTimestamp();
                    await call.RequestStream.WriteAsync(request, context.Cancel).ConfigureAwait(false);
                    if (!await call.ResponseStream.MoveNext(context.Cancel).ConfigureAwait(false))
                    {
                        stats.RecordError(StatusCode.Unavailable);
                        break;
                    }
                    stats.RecordSuccess(BenchContext.ElapsedNs(t0));
                }
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                stats.RecordError(e.StatusCode, e.Status.Detail);
            }
        }
        try
        {
            await lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = id }, deadline: DateTime.UtcNow + options.CallTimeout)
                .ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // Best effort: the lease expires after its TTL anyway.
        }
    }
}
