using Ketch.Api.Etcdserverpb;

namespace Ketch.Ctl.Commands;

/// <summary><c>member list|add|remove|update|promote</c>.</summary>
internal static class MemberCommand
{
    public static Command[] All => [new List(), new Add(), new Remove(), new Update(), new Promote()];

    /// <summary>The group's word, for help.</summary>
    public static CommandGroup Group { get; } = new("member", "Commands on the membership of the cluster");

    private static string[] PeerUrls(ParsedArgs args)
    {
        var urls = args.Get("peer-urls").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0)
        {
            throw CtlContext.BadArgs("member peer urls not provided");
        }
        return urls;
    }

    private static ulong Id(ParsedArgs args, string verb)
    {
        if (args.Positional.Count != 1)
        {
            throw CtlContext.BadArgs($"member ID is not provided");
        }
        return KvFlags.MemberId(args.Positional[0]);
    }

    private sealed class List : Command
    {
        public override string Name => "member list";

        public override string Short => "Lists the members of the cluster";

        public override string Description =>
            "In the simple output format, each member is one line of comma-separated fields:\n" +
            "ID, status, name, peer URLs, client URLs, and whether it is a learner.";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Cluster.MemberListAsync(cancellationToken: cts.Token).ConfigureAwait(false);
            ctx.Printer().MemberList(r);
            return 0;
        }
    }

    private sealed class Add : Command
    {
        public override string Name => "member add";

        public override string Short => "Adds a member to the cluster";

        public override string Usage => "<memberName> [options]";

        public override IReadOnlyList<Flag> Flags => [new("peer-urls", Usage: "the new member's peer URLs, separated by commas"), new("learner", IsBool: true, Usage: "add the member as a learner (non-voting)")];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("member name not provided");
            }
            var name = args.Positional[0];
            var urls = PeerUrls(args);
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Cluster.MemberAddAsync(urls, args.Bool("learner"), cts.Token).ConfigureAwait(false);
            ctx.Printer().MemberAdd(r);
            if (ctx.WriteOut == "simple")
            {
                var cluster = new List<string>();
                foreach (var m in r.Members)
                {
                    foreach (var u in m.PeerURLs)
                    {
                        cluster.Add($"{(m.ID == r.Member.ID ? name : m.Name)}={u}");
                    }
                }
                await ctx.Out.WriteAsync(
                    $"\nETCD_NAME=\"{name}\"\nETCD_INITIAL_CLUSTER=\"{string.Join(",", cluster)}\"\n" +
                    $"ETCD_INITIAL_ADVERTISE_PEER_URLS=\"{string.Join(",", r.Member.PeerURLs)}\"\nETCD_INITIAL_CLUSTER_STATE=\"existing\"\n")
                    .ConfigureAwait(false);
            }
            return 0;
        }
    }

    private sealed class Remove : Command
    {
        public override string Name => "member remove";

        public override string Short => "Removes a member from the cluster";

        public override string Usage => "<memberID>";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            var id = Id(args, "remove");
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Cluster.MemberRemoveAsync(id, cts.Token).ConfigureAwait(false);
            ctx.Printer().MemberRemove(id, r);
            return 0;
        }
    }

    private sealed class Update : Command
    {
        public override string Name => "member update";

        public override string Short => "Changes the peer URLs of a member";

        public override string Usage => "<memberID> [options]";

        public override IReadOnlyList<Flag> Flags => [new("peer-urls", Usage: "the member's new peer URLs, separated by commas")];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            var id = Id(args, "update");
            var urls = PeerUrls(args);
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Cluster.MemberUpdateAsync(id, urls, cts.Token).ConfigureAwait(false);
            ctx.Printer().MemberUpdate(id, r);
            return 0;
        }
    }

    private sealed class Promote : Command
    {
        public override string Name => "member promote";

        public override string Short => "Promotes a learner member to a voting one";

        public override string Usage => "<memberID>";

        public override string Description =>
            "Makes a learner (non-voting) member of the cluster a voting member.";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            var id = Id(args, "promote");
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            MemberPromoteResponse r = await client.Cluster.MemberPromoteAsync(id, cts.Token).ConfigureAwait(false);
            ctx.Printer().MemberPromote(id, r);
            return 0;
        }
    }
}
