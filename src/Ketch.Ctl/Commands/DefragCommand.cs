using Grpc.Core;
using Ketch.Mvcc.Backend;
using Ketch.Server;

namespace Ketch.Ctl.Commands;

/// <summary><c>defrag [--cluster] [--data-dir dir]</c>: defragments each endpoint in turn; with <c>--data-dir</c>,
/// the data directory of a stopped member instead (<see cref="OfflineDefrag"/>). As etcdctl 3.4.23, an offline
/// defrag prints nothing when it succeeds; where etcdctl waits for a running etcd to release its lock on the
/// directory, ketchctl refuses at once.</summary>
internal sealed class DefragCommand : Command
{
    public override string Name => "defrag";

    public override string Short => "Defragments the storage of the members at the given endpoints";

    public override IReadOnlyList<Flag> Flags =>
    [
        new("cluster", IsBool: true, Usage: "use the client URLs of every member instead of --endpoints"),
        new("data-dir", Usage: "defragment this data directory of a stopped member instead (no server is contacted)"),
    ];

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        if (args.Get("data-dir") is { Length: > 0 } dataDir)
        {
            return await DefragDataAsync(ctx, dataDir).ConfigureAwait(false);
        }
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

    /// <summary>etcdctl's defragData: silent on success; <c>Failed to defragment etcd data[dir] (why)</c> and exit 1.</summary>
    private static async Task<int> DefragDataAsync(CtlContext ctx, string dataDir)
    {
        try
        {
            OfflineDefrag.Run(dataDir);
            return 0;
        }
        catch (BackendLockedException ex)
        {
            await ctx.Err.WriteAsync($"Failed to defragment etcd data[{dataDir}] ({ex.Message}; to defrag a running member, omit --data-dir)\n")
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await ctx.Err.WriteAsync($"Failed to defragment etcd data[{dataDir}] ({ex.Message})\n").ConfigureAwait(false);
        }
        return ExitCode.Error;
    }
}
