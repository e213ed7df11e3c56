using Ketch.Ctl.Printers;

namespace Ketch.Ctl.Commands;

/// <summary><c>user add|delete|get|list|passwd|grant-role|revoke-role</c>.</summary>
internal static class UserCommand
{
    public static Command[] All => [new Add(), new Delete(), new Get(), new List(), new Passwd(), new GrantRole(), new RevokeRole()];

    /// <summary>The group's word, for help.</summary>
    public static CommandGroup Group { get; } = new("user", "Commands on users");

    /// <summary>etcdctl's <c>--interactive=false</c>: the password is the first word on stdin (Go's
    /// <c>fmt.Scanf("%s")</c>).</summary>
    private static string ReadPassword(CtlContext ctx)
    {
        var line = ctx.In.ReadLine() ?? "";
        var words = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return words.Length > 0 ? words[0] : "";
    }

    /// <summary>etcdctl's interactive mode: the password asked for twice (on the terminal with echo off, or
    /// as two lines of stdin), which must be the same and not empty.</summary>
    private static string AskPassword(CtlContext ctx, string user)
    {
        var password = CtlCredentials.AskPassword(ctx, $"Password of {user}: ");
        if (password.Length == 0)
        {
            throw CtlContext.BadArgs("empty password");
        }
        if (CtlCredentials.AskPassword(ctx, $"Type password of {user} again for confirmation: ") != password)
        {
            throw CtlContext.BadArgs("given passwords are different");
        }
        return password;
    }

    private sealed class Add : Command
    {
        public override string Name => "user add";

        public override string Short => "Creates a user";

        public override string Usage => "<user name or user:password> [options]";

        public override IReadOnlyList<Flag> Flags =>
        [
            new("interactive", IsBool: true, Default: "true", Usage: "ask for the password on the terminal (false: read it from standard input)"),
            new("new-user-password", Usage: "the new user's password"),
            new("no-password", IsBool: true, Default: "false", Usage: "create the user without a password (for CN-based authentication)"),
        ];

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
                    password = args.Bool("interactive") ? AskPassword(ctx, user) : ReadPassword(ctx);
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

        public override string Short => "Deletes a user";

        public override string Usage => "<user name>";

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

        public override string Short => "Shows a user and its roles";

        public override string Usage => "<user name> [options]";

        public override IReadOnlyList<Flag> Flags => [new("detail", IsBool: true, Default: "false", Usage: "show the permissions of the user's roles too")];

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

        public override string Short => "Lists the users";

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

        public override string Short => "Changes the password of a user";

        public override string Usage => "<user name> [options]";

        public override IReadOnlyList<Flag> Flags =>
            [new("interactive", IsBool: true, Default: "true", Usage: "ask for the password on the terminal (false: read it from standard input)")];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("user passwd command requires user name as its argument");
            }
            var password = args.Bool("interactive") ? AskPassword(ctx, args.Positional[0]) : ReadPassword(ctx);
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

        public override string Short => "Gives a role to a user";

        public override string Usage => "<user name> <role name>";

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

        public override string Short => "Takes a role away from a user";

        public override string Usage => "<user name> <role name>";

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
