using System.Globalization;

namespace Ketch.Ctl.Commands;

/// <summary><c>compaction [options] &lt;revision&gt;</c>.</summary>
internal sealed class CompactionCommand : Command
{
    public override string Name => "compaction";

    public override string Short => "Discards the event history before a revision";

    public override string Usage => "[options] <revision>";

    public override IReadOnlyList<Flag> Flags => [new("physical", IsBool: true, Usage: "wait until the compacted revisions are removed from the backend")];

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        if (args.Positional.Count != 1)
        {
            throw CtlContext.BadArgs("compaction command needs 1 argument");
        }
        if (!long.TryParse(args.Positional[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var rev))
        {
            throw CtlContext.BadArgs($"strconv.ParseInt: parsing \"{args.Positional[0]}\": invalid syntax");
        }
        using var client = ctx.Client();
        using var cts = ctx.Timeout();
        await client.Kv.CompactAsync(rev, args.Bool("physical"), cts.Token).ConfigureAwait(false);
        await ctx.Out.WriteAsync($"compacted revision {rev}\n").ConfigureAwait(false);
        return 0;
    }
}
