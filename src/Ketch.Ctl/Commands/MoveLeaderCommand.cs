namespace Ketch.Ctl.Commands;

/// <summary><c>move-leader &lt;transferee-member-id&gt;</c>: finds the leader among the endpoints and asks it to hand over.</summary>
internal sealed class MoveLeaderCommand : Command
{
    public override string Name => "move-leader";

    public override string Short => "Hands the leadership to another member of the cluster";

    public override string Usage => "<transferee-member-id>";

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        if (args.Positional.Count != 1)
        {
            throw CtlContext.BadArgs("move-leader command needs 1 argument");
        }
        // etcdctl reports the bare strconv error here (not member's "bad member ID arg").
        if (!ulong.TryParse(args.Positional[0], System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var target))
        {
            throw CtlContext.BadArgs($"strconv.ParseUint: parsing {GoFormat.Quote(args.Positional[0])}: invalid syntax");
        }
        string? leaderEndpoint = null;
        ulong leader = 0;
        foreach (var ep in ctx.Endpoints)
        {
            using var c = ctx.Client([ep]);
            using var t = ctx.Timeout();
            var s = await c.Maintenance.StatusAsync(t.Token).ConfigureAwait(false);
            if (s.Leader == s.Header.MemberId)
            {
                leaderEndpoint = ep;
                leader = s.Leader;
                break;
            }
        }
        if (leaderEndpoint is null)
        {
            throw new CtlException(ExitCode.BadArgs, "no leader endpoint given at [" + string.Join(" ", ctx.Endpoints) + "]");
        }
        using var client = ctx.Client([leaderEndpoint]);
        using var cts = ctx.Timeout();
        var r = await client.Maintenance.MoveLeaderAsync(target, cts.Token).ConfigureAwait(false);
        ctx.Printer().MoveLeader(leader, target, r);
        return 0;
    }
}
