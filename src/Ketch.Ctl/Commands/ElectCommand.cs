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
        if (args.Positional.Count != (listen ? 1 : 2))
        {
            throw CtlContext.BadArgs(args.Positional.Count is 1 or 2 ? "no proposal argument but -l not set" : "elect takes one election name argument and an optional proposal argument");
        }
        using var client = ctx.Client();
        var name = args.Positional[0];
        if (listen)
        {
            try
            {
                await foreach (var kv in Election.ObserveAsync(client, name, ctx.Interrupt).ConfigureAwait(false))
                {
                    await ctx.Out.WriteAsync($"{kv.Key.ToStringUtf8()}\n{kv.Value.ToStringUtf8()}\n").ConfigureAwait(false);
                    await ctx.Out.FlushAsync(ctx.Interrupt).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ctx.Interrupt.IsCancellationRequested)
            {
                return 0;
            }
            return 0;
        }
        await using var session = await Session.CreateAsync(client, 60, ctx.Interrupt).ConfigureAwait(false);
        var election = new Election(session, name);
        await election.CampaignAsync(args.Positional[1], ctx.Interrupt).ConfigureAwait(false);
        await ctx.Out.WriteAsync($"{election.Key}\n{args.Positional[1]}\n").ConfigureAwait(false);
        await ctx.Out.FlushAsync(ctx.Interrupt).ConfigureAwait(false);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ctx.Interrupt, session.Done);
        await Task.Delay(Timeout.Infinite, done.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        using var resign = new CancellationTokenSource(ctx.CommandTimeout);
        await election.ResignAsync(resign.Token).ConfigureAwait(false);
        return session.Done.IsCancellationRequested ? ExitCode.Error : 0;
    }
}
