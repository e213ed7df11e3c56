using System.Globalization;

namespace Ketch.Ctl.Commands;

/// <summary><c>lease grant|revoke|timetolive|list|keep-alive</c>.</summary>
internal static class LeaseCommand
{
    public static Command[] All => [new Grant(), new Revoke(), new TimeToLive(), new List(), new KeepAlive()];

    /// <summary>The group's word, for help.</summary>
    public static CommandGroup Group { get; } = new("lease", "Commands on leases");

    private sealed class Grant : Command
    {
        public override string Name => "lease grant";

        public override string Short => "Creates a lease";

        public override string Usage => "<ttl>";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("lease grant command needs TTL argument");
            }
            if (!long.TryParse(args.Positional[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ttl))
            {
                throw CtlContext.BadArgs($"bad TTL (strconv.ParseInt: parsing \"{args.Positional[0]}\": invalid syntax)");
            }
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Lease.GrantAsync(ttl, cancellationToken: cts.Token).ConfigureAwait(false);
            ctx.Printer().Grant(r);
            return 0;
        }
    }

    private sealed class Revoke : Command
    {
        public override string Name => "lease revoke";

        public override string Short => "Revokes a lease";

        public override string Usage => "<leaseID>";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("lease revoke command needs 1 argument");
            }
            var id = KvFlags.LeaseId(args.Positional[0], argument: true);
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Lease.RevokeAsync(id, cts.Token).ConfigureAwait(false);
            ctx.Printer().Revoke(id, r);
            return 0;
        }
    }

    private sealed class TimeToLive : Command
    {
        public override string Name => "lease timetolive";

        public override string Short => "Shows a lease's remaining time";

        public override string Usage => "<leaseID> [options]";

        public override IReadOnlyList<Flag> Flags => [new("keys", IsBool: true, Usage: "list the keys attached to the lease too")];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("lease timetolive command needs lease ID as argument");
            }
            var id = KvFlags.LeaseId(args.Positional[0], argument: true);
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Lease.TimeToLiveAsync(id, args.Bool("keys"), cts.Token).ConfigureAwait(false);
            ctx.Printer().TimeToLive(r, args.Bool("keys"));
            return 0;
        }
    }

    private sealed class List : Command
    {
        public override string Name => "lease list";

        public override string Short => "Lists the active leases";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Lease.LeasesAsync(cts.Token).ConfigureAwait(false);
            ctx.Printer().Leases(r);
            return 0;
        }
    }

    private sealed class KeepAlive : Command
    {
        public override string Name => "lease keep-alive";

        public override string Short => "Keeps a lease alive by renewing it";

        public override string Usage => "[options] <leaseID>";

        public override IReadOnlyList<Flag> Flags => [new("once", IsBool: true, Usage: "renew the lease once, then exit")];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("lease keep-alive command needs lease ID as argument");
            }
            var id = KvFlags.LeaseId(args.Positional[0], argument: true);
            using var client = ctx.Client();
            var printer = ctx.Printer();
            if (args.Bool("once"))
            {
                using var cts = ctx.Timeout();
                var r = await client.Lease.KeepAliveOnceAsync(id, cts.Token).ConfigureAwait(false);
                if (r.TTL <= 0)
                {
                    throw new CtlException(ExitCode.Error, "etcdserver: requested lease not found");
                }
                printer.KeepAlive(r);
                return 0;
            }
            await using var ka = client.Lease.KeepAlive(id);
            try
            {
                await foreach (var r in ka.Responses.ReadAllAsync(ctx.Interrupt).ConfigureAwait(false))
                {
                    printer.KeepAlive(r);
                    await ctx.Out.FlushAsync(ctx.Interrupt).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ctx.Interrupt.IsCancellationRequested)
            {
                return 0;
            }
            // etcdctl says so in the simple format only.
            if (ctx.WriteOut == "simple")
            {
                await ctx.Out.WriteAsync($"lease {GoFormat.X016(id)} expired or revoked.\n").ConfigureAwait(false);
            }
            return 0;
        }
    }
}
