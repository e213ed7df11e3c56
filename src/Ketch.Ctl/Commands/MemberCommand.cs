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
        // etcdctl splits on commas as given (no trimming).
        var urls = args.Get("peer-urls");
        return urls.Length == 0 ? throw CtlContext.BadArgs("member peer urls not provided") : urls.Split(',');
    }

    /// <summary>clientv3's MemberAdd and MemberUpdate check the peer URLs as etcd's <c>types.NewURLs</c> does
    /// before sending them: the first bad one ends the command with Go's message (exit code 1).</summary>
    private static void CheckPeerUrls(string[] urls)
    {
        foreach (var raw in urls)
        {
            var u = raw.Trim();
            var colon = u.IndexOf(':', StringComparison.Ordinal);
            if (colon == 0)
            {
                throw new CtlException(ExitCode.Error, $"parse {GoFormat.Quote(u)}: missing protocol scheme");
            }
            var scheme = colon > 0 && char.IsAsciiLetter(u[0]) && u[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')
                ? u[..colon].ToLowerInvariant() : "";
            // Go's url.Parse: without a scheme, the URL is a relative path whose first segment may not hold a colon.
            if (scheme.Length == 0 && !u.StartsWith('/') && u.Split('/')[0].Split('?', '#')[0].Contains(':', StringComparison.Ordinal))
            {
                throw new CtlException(ExitCode.Error, $"parse {GoFormat.Quote(u)}: first path segment in URL cannot contain colon");
            }
            if (scheme is not ("http" or "https" or "unix" or "unixs"))
            {
                throw new CtlException(ExitCode.Error, $"URL scheme must be http, https, unix, or unixs: {u}");
            }
            var rest = u[(colon + 1)..];
            var query = rest.IndexOfAny(['?', '#']);
            rest = query < 0 ? rest : rest[..query];
            var (host, path) = ("", rest);
            if (rest.StartsWith("//", StringComparison.Ordinal))
            {
                var authority = rest[2..];
                var slash = authority.IndexOf('/', StringComparison.Ordinal);
                (host, path) = slash < 0 ? (authority, "") : (authority[..slash], authority[slash..]);
                host = host[(host.LastIndexOf('@') + 1)..];
            }
            if (!IsHostPort(host))
            {
                throw new CtlException(ExitCode.Error, $"URL address does not have the form \"host:port\": {u}");
            }
            if (path.Length > 0)
            {
                throw new CtlException(ExitCode.Error, $"URL must not contain a path: {u}");
            }
        }
    }

    /// <summary>Whether Go's <c>net.SplitHostPort</c> accepts it: <c>host:port</c> or <c>[ipv6]:port</c>.</summary>
    private static bool IsHostPort(string s)
    {
        var i = s.LastIndexOf(':');
        if (i < 0)
        {
            return false;
        }
        var host = s[..i];
        return host.StartsWith('[') ? host.EndsWith(']') && host.IndexOf(']', StringComparison.Ordinal) == host.Length - 1 : !host.Contains(':', StringComparison.Ordinal) && !host.Contains('[', StringComparison.Ordinal) && !host.Contains(']', StringComparison.Ordinal);
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
            if (args.Positional.Count == 0)
            {
                throw CtlContext.BadArgs("member name not provided");
            }
            if (args.Positional.Count > 1)
            {
                // etcdctl's hint for a peer URL given without its flag.
                var hints = args.Positional.Where(a => a.StartsWith("http", StringComparison.OrdinalIgnoreCase)).Select(a => $", did you mean --peer-urls={a}");
                throw CtlContext.BadArgs("too many arguments" + string.Concat(hints));
            }
            var name = args.Positional[0];
            var urls = PeerUrls(args);
            CheckPeerUrls(urls);
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
                    $"\nETCD_NAME={GoFormat.Quote(name)}\nETCD_INITIAL_CLUSTER={GoFormat.Quote(string.Join(",", cluster))}\n" +
                    $"ETCD_INITIAL_ADVERTISE_PEER_URLS={GoFormat.Quote(string.Join(",", r.Member.PeerURLs))}\nETCD_INITIAL_CLUSTER_STATE=\"existing\"\n")
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
            CheckPeerUrls(urls);
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
