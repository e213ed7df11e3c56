using Ketch.Ctl.Printers;

namespace Ketch.Ctl.Commands;

/// <summary><c>user add|delete|get|list|passwd|grant-role|revoke-role</c>.</summary>
internal static class UserCommand
{
    public static Command[] All => [new Add(), new Delete(), new Get(), new List(), new Passwd(), new GrantRole(), new RevokeRole()];

    /// <summary>etcdctl's <c>--interactive=false</c>: the password is the first word on stdin (Go's
    /// <c>fmt.Scanf("%s")</c>). Interactive mode asks twice on the terminal; we read stdin the same way.</summary>
    private static string ReadPassword(CtlContext ctx)
    {
        var line = ctx.In.ReadLine() ?? "";
        var words = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return words.Length > 0 ? words[0] : "";
    }

    private sealed class Add : Command
    {
        public override string Name => "user add";

        public override IReadOnlyList<Flag> Flags =>
            [new("interactive", IsBool: true, Default: "true"), new("new-user-password"), new("no-password", IsBool: true, Default: "false")];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("user add command requires user name as its argument");
            }
            var user = args.Positional[0];
            var password = "";
            var noPassword = args.Bool("no-password");
            if (!noPassword)
            {
                if (args.Get("new-user-password").Length > 0)
                {
                    password = args.Get("new-user-password");
                }
                else if (user.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0)
                {
                    (user, password) = (user[..colon], user[(colon + 1)..]);
                    if (user.Length == 0)
                    {
                        throw CtlContext.BadArgs("empty user name is not allowed");
                    }
                }
                else
                {
                    password = ReadPassword(ctx);
                }
            }
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = noPassword
                ? await client.Auth.UserAddNoPasswordAsync(user, cts.Token).ConfigureAwait(false)
                : await client.Auth.UserAddAsync(user, password, cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r, o => o.Write($"User {user} created\n"));
            return 0;
        }
    }

    private sealed class Delete : Command
    {
        public override string Name => "user delete";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("user delete command requires user name as its argument");
            }
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.UserDeleteAsync(args.Positional[0], cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r, o => o.Write($"User {args.Positional[0]} deleted\n"));
            return 0;
        }
    }

    private sealed class Get : Command
    {
        public override string Name => "user get";

        public override IReadOnlyList<Flag> Flags => [new("detail", IsBool: true, Default: "false")];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("user get command requires user name as its argument");
            }
            var name = args.Positional[0];
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.UserGetAsync(name, cts.Token).ConfigureAwait(false);
            var printer = new AuthPrinter(ctx);
            if (args.Bool("detail"))
            {
                // As etcdctl: the name, then each role as role get prints it, in the chosen format.
                await ctx.Out.WriteAsync($"User: {name}\n").ConfigureAwait(false);
                foreach (var role in r.Roles)
                {
                    await ctx.Out.WriteAsync("\n").ConfigureAwait(false);
                    var rr = await client.Auth.RoleGetAsync(role, cts.Token).ConfigureAwait(false);
                    printer.Print(rr, o => AuthPrinter.RoleGet(o, role, rr), o => AuthPrinter.RoleGetFields(o, rr));
                }
                return 0;
            }
            printer.Print(r, o => o.Write($"User: {name}\nRoles:{string.Concat(r.Roles.Select(x => " " + x))}\n"), fieldsSupported: false);
            return 0;
        }
    }

    private sealed class List : Command
    {
        public override string Name => "user list";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 0)
            {
                throw CtlContext.BadArgs("user list command requires no arguments");
            }
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.UserListAsync(cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r, o => o.Write(string.Concat(r.Users.Select(u => u + "\n"))), fieldsSupported: false);
            return 0;
        }
    }

    private sealed class Passwd : Command
    {
        public override string Name => "user passwd";

        public override IReadOnlyList<Flag> Flags => [new("interactive", IsBool: true, Default: "true")];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("user passwd command requires user name as its argument");
            }
            var password = ReadPassword(ctx);
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.UserChangePasswordAsync(args.Positional[0], password, cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r, o => o.Write("Password updated\n"));
            return 0;
        }
    }

    private sealed class GrantRole : Command
    {
        public override string Name => "user grant-role";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 2)
            {
                throw CtlContext.BadArgs("user grant command requires user name and role name as its argument");
            }
            var (user, role) = (args.Positional[0], args.Positional[1]);
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.UserGrantRoleAsync(user, role, cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r, o => o.Write($"Role {role} is granted to user {user}\n"));
            return 0;
        }
    }

    private sealed class RevokeRole : Command
    {
        public override string Name => "user revoke-role";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 2)
            {
                throw CtlContext.BadArgs("user revoke-role requires user name and role name as its argument");
            }
            var (user, role) = (args.Positional[0], args.Positional[1]);
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.UserRevokeRoleAsync(user, role, cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r, o => o.Write($"Role {role} is revoked from user {user}\n"));
            return 0;
        }
    }
}
