using Ketch.Api.Etcdserverpb;

namespace Ketch.Ctl.Commands;

/// <summary><c>get [options] &lt;key&gt; [range_end]</c>.</summary>
internal sealed class GetCommand : Command
{
    public override string Name => "get";

    public override string Short => "Gets one key or a range of keys";

    public override string Usage => "[options] <key> [range_end]";

    public override IReadOnlyList<Flag> Flags => KvFlags.Get;

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        var request = KvFlags.GetRequest(args);
        var printer = ctx.Printer(args.Bool("print-value-only"));
        if (ctx.WriteOut == "table")
        {
            printer.Get(new RangeResponse());
        }
        using var client = ctx.Client();
        using var cts = ctx.Timeout();
        var r = await client.Kv.RangeAsync(request, cts.Token).ConfigureAwait(false);
        printer.Get(r);
        return 0;
    }
}
