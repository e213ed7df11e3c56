using Ketch.Client;

namespace Ketch.Ctl.Commands;

/// <summary><c>watch [options] [key or prefix] [range_end] [--] [exec-command ...]</c>: prints events until interrupted.</summary>
internal sealed class WatchCommand : Command
{
    public override string Name => "watch";

    public override IReadOnlyList<Flag> Flags =>
        [new("interactive", IsBool: true, Short: "i"), new("prefix", IsBool: true), new("rev", Default: "0"), new("prev-kv", IsBool: true), new("progress-notify", IsBool: true)];

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        if (args.Positional.Count is 0 or > 2)
        {
            throw CtlContext.BadArgs("watch in non-interactive mode requires one or two arguments as key or prefix, with range end");
        }
        if (args.Bool("prefix") && args.Positional.Count == 2)
        {
            throw CtlContext.BadArgs("`range_end` and `--prefix` are mutually exclusive");
        }
        var printer = ctx.Printer();
        using var client = ctx.Client();
        var options = new WatchOptions
        {
            Prefix = args.Bool("prefix"),
            RangeEnd = args.Positional.Count == 2 ? KvFlags.KeyBytes(args.Positional[1]) : null,
            StartRevision = args.Long("rev"),
            PrevKv = args.Bool("prev-kv"),
            ProgressNotify = args.Bool("progress-notify"),
        };
        try
        {
            await foreach (var r in client.Watch.Watch(args.Positional[0], options).WithCancellation(ctx.Interrupt).ConfigureAwait(false))
            {
                if (r.Created)
                {
                    continue;
                }
                printer.Watch(r);
                await ctx.Out.FlushAsync(ctx.Interrupt).ConfigureAwait(false);
            }
        }
        catch (WatchCanceledException ex)
        {
            throw new CtlException(ExitCode.Error, ex is WatchCompactedException c
                ? $"watch is canceled by the server: required revision has been compacted (compact revision {c.CompactRevision})"
                : "watch is canceled by the server");
        }
        return 0;
    }
}
