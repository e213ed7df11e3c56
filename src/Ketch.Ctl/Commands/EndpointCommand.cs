using System.Diagnostics;
using Grpc.Core;

namespace Ketch.Ctl.Commands;

/// <summary><c>endpoint health|status|hashkv [--cluster]</c>: one client per endpoint, as etcdctl.</summary>
internal static class EndpointCommand
{
    public static Command[] All => [new Health(), new Status(), new HashKv()];

    private static readonly Flag ClusterFlag = new("cluster", IsBool: true, Usage: "use the client URLs of every member instead of --endpoints");

    /// <summary>The group's word, for help (declared after <see cref="ClusterFlag"/>, which it needs).</summary>
    public static CommandGroup Group { get; } = new("endpoint", "Commands on the endpoints", Persistent: [ClusterFlag]);

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

        public override string Short => "Checks the health of each endpoint of --endpoints";

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

        public override string Short => "Shows the status of each endpoint of --endpoints";

        public override string Description =>
            "In the simple output format, each endpoint is one line of comma-separated fields:\n" +
            "endpoint, ID, version, database size, leader, learner, raft term, raft index,\n" +
            "raft applied index, errors.";

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

        public override string Short => "Shows the hash of the KV history of each endpoint of --endpoints";

        public override IReadOnlyList<Flag> Flags => [ClusterFlag, new("rev", Default: "0", Usage: "hash the history up to this revision (0: all of it)", Kind: FlagKind.Int)];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            var list = new List<EndpointHash>();
            string? failure = null;
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
                    failure = ex is RpcException r ? Runner.Describe(r) : "context deadline exceeded";
                    await ctx.Err.WriteAsync($"Failed to get the hash of endpoint {ep} ({failure})\n").ConfigureAwait(false);
                }
            }
            ctx.Printer().EndpointHashKV(list);
            // Unlike status, etcdctl's hashkv ends with the last endpoint's error as well.
            return failure is null ? 0 : throw new CtlException(ExitCode.Error, failure);
        }
    }
}
