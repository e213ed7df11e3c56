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
        var target = KvFlags.MemberId(args.Positional[0]);
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
            throw new CtlException(ExitCode.Error, "no leader endpoint given at [" + string.Join(" ", ctx.Endpoints) + "]");
        }
        using var client = ctx.Client([leaderEndpoint]);
        using var cts = ctx.Timeout();
        var r = await client.Maintenance.MoveLeaderAsync(target, cts.Token).ConfigureAwait(false);
        ctx.Printer().MoveLeader(leader, target, r);
        return 0;
    }
}
