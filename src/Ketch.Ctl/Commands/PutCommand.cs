namespace Ketch.Ctl.Commands;

/// <summary><c>put [options] &lt;key&gt; &lt;value&gt;</c> (or the value from stdin).</summary>
internal sealed class PutCommand : Command
{
    public override string Name => "put";

    public override IReadOnlyList<Flag> Flags => KvFlags.Put;

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        string value;
        if (args.Positional.Count == 2)
        {
            value = args.Positional[1];
        }
        else if (args.Positional.Count == 1 && true)
        {
            value = args.Bool("ignore-value") ? "" : await ctx.In.ReadToEndAsync(ctx.Interrupt).ConfigureAwait(false);
        }
        else
        {
            throw CtlContext.BadArgs("put command needs 1 argument and input from stdin or 2 arguments");
        }
        var request = KvFlags.PutRequest(args, args.Positional[0], value);
        using var client = ctx.Client();
        using var cts = ctx.Timeout();
        var r = await client.Kv.PutAsync(request, cts.Token).ConfigureAwait(false);
        ctx.Printer().Put(r);
        return 0;
    }
}
