using Grpc.Core;
using Ketch.Ctl.Printers;

namespace Ketch.Ctl.Commands;

/// <summary><c>auth enable|disable|status</c>.</summary>
internal static class AuthCommand
{
    public static Command[] All => [new Enable(), new Disable(), new Status()];

    /// <summary>The group's word, for help.</summary>
    public static CommandGroup Group { get; } = new("auth", "Turns authentication on or off", "<enable or disable>");

    private sealed class Enable : Command
    {
        public override string Name => "auth enable";

        public override string Short => "Turns authentication on";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 0)
            {
                throw CtlContext.BadArgs("auth enable command does not accept any arguments");
            }
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            // As etcdctl: a root user without the root role gets it (the role created first), then again.
            while (true)
            {
                try
                {
                    await client.Auth.EnableAsync(cts.Token).ConfigureAwait(false);
                    break;
                }
                catch (RpcException ex) when (ex.Status.Detail == "etcdserver: root user does not have root role")
                {
                    await client.Auth.RoleAddAsync("root", cts.Token).ConfigureAwait(false);
                    await client.Auth.UserGrantRoleAsync("root", "root", cts.Token).ConfigureAwait(false);
                }
            }
            await ctx.Out.WriteAsync("Authentication Enabled\n").ConfigureAwait(false);
            return 0;
        }
    }

    private sealed class Disable : Command
    {
        public override string Name => "auth disable";

        public override string Short => "Turns authentication off";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 0)
            {
                throw CtlContext.BadArgs("auth disable command does not accept any arguments");
            }
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            await client.Auth.DisableAsync(cts.Token).ConfigureAwait(false);
            await ctx.Out.WriteAsync("Authentication Disabled\n").ConfigureAwait(false);
            return 0;
        }
    }

    /// <summary>etcdctl 3.5's <c>auth status</c> (3.4 has none).</summary>
    private sealed class Status : Command
    {
        public override string Name => "auth status";

        public override string Short => "Shows whether authentication is on";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 0)
            {
                throw CtlContext.BadArgs("auth status command does not accept any arguments");
            }
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.StatusAsync(cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r, o => o.Write($"Authentication Status: {GoFormat.Bool(r.Enabled)}\nAuthRevision: {GoFormat.D(r.AuthRevision)}\n"));
            return 0;
        }
    }
}
