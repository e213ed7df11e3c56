using Ketch.Api.Etcdserverpb;
using Ketch.Client.Concurrency;

namespace Ketch.Ctl.Commands;

/// <summary><c>elect &lt;election-name&gt; [proposal]</c> campaigns and holds leadership until interrupted;
/// <c>elect -l &lt;election-name&gt;</c> prints each leader as it changes.</summary>
internal sealed class ElectCommand : Command
{
    public override string Name => "elect";

    public override string Short => "Campaigns in a leader election, or observes it";

    public override string Usage => "<election-name> [proposal]";

    public override IReadOnlyList<Flag> Flags => [new("listen", IsBool: true, Short: "l", Usage: "observe the election without campaigning")];

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        var listen = args.Bool("listen");
        if (args.Positional.Count is not (1 or 2))
        {
            throw CtlContext.BadArgs("elect takes one election name argument and an optional proposal argument");
        }
        if (args.Positional.Count == 1 && !listen)
        {
            throw CtlContext.BadArgs("no proposal argument but -l not set");
        }
        if (args.Positional.Count == 2 && listen)
        {
            throw CtlContext.BadArgs("proposal given but -l is set");
        }
        using var client = ctx.Client();
        var name = args.Positional[0];
        if (listen)
        {
            try
            {
                await foreach (var kv in Election.ObserveAsync(client, name, ctx.Interrupt).ConfigureAwait(false))
                {
                    // etcdctl prints each leader as a `get` of it (clientv3's Observe yields get responses).
                    var leader = new RangeResponse { Header = new ResponseHeader(), Count = 1 };
                    leader.Kvs.Add(kv);
                    ctx.Printer().Get(leader);
                    await ctx.Out.FlushAsync(ctx.Interrupt).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or Grpc.Core.RpcException && ctx.Interrupt.IsCancellationRequested)
            {
                // Interrupted, as etcdctl on SIGINT: the watch ends canceled, and that is a clean end.
                return 0;
            }
            return ctx.Interrupt.IsCancellationRequested ? 0 : throw new CtlException(ExitCode.Error, "elect: observer lost");
        }
        await using var session = await Session.CreateAsync(client, 60, ctx.Interrupt).ConfigureAwait(false);
        var election = new Election(session, name);
        await election.CampaignAsync(args.Positional[1], ctx.Interrupt).ConfigureAwait(false);
        // etcdctl reads the leader key back and prints it as `get` does (the key, then the proposal).
        using (var get = ctx.Timeout())
        {
            ctx.Printer().Get(await client.Kv.GetAsync(election.Key!, cancellationToken: get.Token).ConfigureAwait(false));
        }
        // Elected and printed: from here an interrupt means resign and exit 0, as etcdctl. The flush must not be
        // canceled by it (an interrupt right after the print made it throw, and ketchctl exited 5 without resigning).
        await ctx.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ctx.Interrupt, session.Done);
        await Task.Delay(Timeout.Infinite, done.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        if (session.Done.IsCancellationRequested && !ctx.Interrupt.IsCancellationRequested)
        {
            throw new CtlException(ExitCode.Error, "elect: session expired");
        }
        using var resign = new CancellationTokenSource(ctx.CommandTimeout);
        await election.ResignAsync(resign.Token).ConfigureAwait(false);
        return 0;
    }
}
