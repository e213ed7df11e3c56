using System.Diagnostics;
using Grpc.Core;

namespace Ketch.Ctl.Commands;

/// <summary><c>endpoint health|status|hashkv [--cluster]</c>: one client per endpoint, as etcdctl.</summary>
internal static class EndpointCommand
{
    public static Command[] All => [new Health(), new Status(), new HashKv()];

    private static readonly Flag ClusterFlag = new("cluster", IsBool: true);

    /// <summary>The given endpoints, or with <c>--cluster</c> every member's client URLs.</summary>
    private static async Task<IReadOnlyList<string>> EndpointsAsync(CtlContext ctx, ParsedArgs args)
    {
        if (!args.Bool("cluster"))
        {
            return ctx.Endpoints;
        }
        using var client = ctx.Client();
        using var cts = ctx.Timeout();
        var r = await client.Cluster.MemberListAsync(cancellationToken: cts.Token).ConfigureAwait(false);
        return [.. r.Members.SelectMany(m => m.ClientURLs)];
    }

    private sealed class Health : Command
    {
        public override string Name => "endpoint health";

        public override IReadOnlyList<Flag> Flags => [ClusterFlag];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            var endpoints = await EndpointsAsync(ctx, args).ConfigureAwait(false);
            var results = await Task.WhenAll(endpoints.Select(async ep =>
            {
                using var client = ctx.Client([ep]);
                using var cts = ctx.Timeout();
                var sw = Stopwatch.StartNew();
                try
                {
                    // etcd's health check: a linearizable read of the key "health"; permission denied still proves a quorum.
                    await client.Kv.GetAsync("health", cancellationToken: cts.Token).ConfigureAwait(false);
                    return new EndpointHealth(ep, true, sw.Elapsed, "");
                }
                catch (RpcException ex) when (ex.Status.Detail == "etcdserver: permission denied")
                {
                    return new EndpointHealth(ep, true, sw.Elapsed, "");
                }
                catch (RpcException ex)
                {
                    return new EndpointHealth(ep, false, sw.Elapsed, Runner.Describe(ex));
                }
                catch (OperationCanceledException)
                {
                    return new EndpointHealth(ep, false, sw.Elapsed, "context deadline exceeded");
                }
            })).ConfigureAwait(false);
            // etcdctl writes the simple form to stderr.
            ctx.Printer(output: ctx.WriteOut == "simple" ? ctx.Err : ctx.Out).EndpointHealth(results);
            if (results.Any(r => !r.Health))
            {
                throw new CtlException(ExitCode.Error, "unhealthy cluster");
            }
            return 0;
        }
    }

    private sealed class Status : Command
    {
        public override string Name => "endpoint status";

        public override IReadOnlyList<Flag> Flags => [ClusterFlag];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            var list = new List<EndpointStatus>();
            var failed = false;
            foreach (var ep in await EndpointsAsync(ctx, args).ConfigureAwait(false))
            {
                using var client = ctx.Client([ep]);
                using var cts = ctx.Timeout();
                try
                {
                    list.Add(new EndpointStatus(ep, await client.Maintenance.StatusAsync(cts.Token).ConfigureAwait(false)));
                }
                catch (Exception ex) when (ex is RpcException or OperationCanceledException)
                {
                    failed = true;
                    var why = ex is RpcException r ? Runner.Describe(r) : "context deadline exceeded";
                    await ctx.Err.WriteAsync($"Failed to get the status of endpoint {ep} ({why})\n").ConfigureAwait(false);
                }
            }
            ctx.Printer().EndpointStatus(list);
            return failed ? ExitCode.Error : 0;
        }
    }

    private sealed class HashKv : Command
    {
        public override string Name => "endpoint hashkv";

        public override IReadOnlyList<Flag> Flags => [ClusterFlag, new("rev", Default: "0")];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            var list = new List<EndpointHash>();
            var failed = false;
            foreach (var ep in await EndpointsAsync(ctx, args).ConfigureAwait(false))
            {
                using var client = ctx.Client([ep]);
                using var cts = ctx.Timeout();
                try
                {
                    list.Add(new EndpointHash(ep, await client.Maintenance.HashKvAsync(args.Long("rev"), cts.Token).ConfigureAwait(false)));
                }
                catch (Exception ex) when (ex is RpcException or OperationCanceledException)
                {
                    failed = true;
                    var why = ex is RpcException r ? Runner.Describe(r) : "context deadline exceeded";
                    await ctx.Err.WriteAsync($"Failed to get the hash of endpoint {ep} ({why})\n").ConfigureAwait(false);
                }
            }
            ctx.Printer().EndpointHashKV(list);
            return failed ? ExitCode.Error : 0;
        }
    }
}
