namespace Ketch.Ctl.Commands;

/// <summary><c>put [options] &lt;key&gt; &lt;value&gt;</c> (or the value from stdin).</summary>
internal sealed class PutCommand : Command
{
    public override string Name => "put";

    public override string Short => "Writes a key into the store";

    public override string Usage => "[options] <key> <value> (<value> can also be given from stdin)";

    public override string Description =>
        "Writes <value> under <key>.\n" +
        "\n" +
        "A <value> that starts with '-' would be read as a flag; put '--' in\n" +
        "front of it, or in front of the key, to pass it as it is:\n" +
        "\n" +
        "$ put <key> -- <value>\n" +
        "$ put -- <key> <value>\n" +
        "\n" +
        "Without a <value> argument, and unless '--ignore-value' is given,\n" +
        "the value is read from standard input, so that\n" +
        "\n" +
        "$ cat file | put <key>\n" +
        "\n" +
        "stores the content of the file under <key>.\n" +
        "\n" +
        "With '--ignore-lease' the key keeps the lease it has.";

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
