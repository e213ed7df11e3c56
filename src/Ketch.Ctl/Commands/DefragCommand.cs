using Grpc.Core;

namespace Ketch.Ctl.Commands;

/// <summary><c>defrag [--cluster]</c>: defragments each endpoint in turn.</summary>
internal sealed class DefragCommand : Command
{
    public override string Name => "defrag";

    public override string Short => "Defragments the storage of the members at the given endpoints";

    public override IReadOnlyList<Flag> Flags => [new("cluster", IsBool: true, Usage: "use the client URLs of every member instead of --endpoints")];

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        IReadOnlyList<string> endpoints = ctx.Endpoints;
        if (args.Bool("cluster"))
        {
            using var c = ctx.Client();
            using var t = ctx.Timeout();
            endpoints = [.. (await c.Cluster.MemberListAsync(cancellationToken: t.Token).ConfigureAwait(false)).Members.SelectMany(m => m.ClientURLs)];
        }
        var failed = false;
        foreach (var ep in endpoints)
        {
            using var client = ctx.Client([ep]);
            using var cts = ctx.Timeout();
            try
            {
                await client.Maintenance.DefragmentAsync(cts.Token).ConfigureAwait(false);
                await ctx.Out.WriteAsync($"Finished defragmenting etcd member[{ep}]\n").ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException)
            {
                failed = true;
                var why = ex is RpcException r ? Runner.Describe(r) : "context deadline exceeded";
                await ctx.Err.WriteAsync($"Failed to defragment etcd member[{ep}] ({why})\n").ConfigureAwait(false);
            }
        }
        return failed ? ExitCode.Error : 0;
    }
}
