namespace Ketch.Ctl.Commands;

/// <summary><c>del [options] &lt;key&gt; [range_end]</c>.</summary>
internal sealed class DelCommand : Command
{
    public override string Name => "del";

    public override string Short => "Deletes a key or the range of keys [key, range_end)";

    public override string Usage => "[options] <key> [range_end]";

    public override IReadOnlyList<Flag> Flags => KvFlags.Del;

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        var request = KvFlags.DelRequest(args);
        using var client = ctx.Client();
        using var cts = ctx.Timeout();
        var r = await client.Kv.DeleteRangeAsync(request, cts.Token).ConfigureAwait(false);
        ctx.Printer().Del(r);
        return 0;
    }
}
