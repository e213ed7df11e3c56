using Google.Protobuf;
using Ketch.Api.Authpb;
using Ketch.Ctl.Printers;

namespace Ketch.Ctl.Commands;

/// <summary><c>role add|delete|get|list|grant-permission|revoke-permission</c>.</summary>
internal static class RoleCommand
{
    public static Command[] All => [new Add(), new Delete(), new Get(), new List(), new Grant(), new Revoke()];

    /// <summary>The group's word, for help.</summary>
    public static CommandGroup Group { get; } = new("role", "Commands on roles");

    private static readonly Flag[] s_permFlags =
    [
        new("prefix", IsBool: true, Default: "false", Usage: "the permission covers every key that starts with the key"),
        new("from-key", IsBool: true, Default: "false", Usage: "the permission covers every key greater than or equal to the key, in byte order"),
    ];

    /// <summary>etcdctl's <c>permRange</c>: the key and range end a permission command means.</summary>
    private static (ByteString Key, ByteString End) PermRange(ParsedArgs args, IReadOnlyList<string> rest)
    {
        var prefix = args.Bool("prefix");
        var fromKey = args.Bool("from-key");
        var key = rest[0];
        if (key.Length == 0)
        {
            if (prefix && fromKey)
            {
                throw CtlContext.BadArgs("--from-key and --prefix flags are mutually exclusive");
            }
            // The whole key space is ["\0", open end); a lone empty key is "\0".
            var zero = ByteString.CopyFrom(0);
            return (zero, prefix || fromKey ? zero : ByteString.Empty);
        }
        var k = ByteString.CopyFromUtf8(key);
        if (rest.Count == 1)
        {
            if (prefix)
            {
                return fromKey
                    ? throw CtlContext.BadArgs("--from-key and --prefix flags are mutually exclusive")
                    : (k, Client.KeyRange.PrefixEnd(k));
            }
            return (k, fromKey ? ByteString.CopyFrom(0) : ByteString.Empty);
        }
        if (prefix)
        {
            throw CtlContext.BadArgs("unexpected endkey argument with --prefix flag");
        }
        if (fromKey)
        {
            throw CtlContext.BadArgs("unexpected endkey argument with --from-key flag");
        }
        return (k, ByteString.CopyFromUtf8(rest[1]));
    }

    private sealed class Add : Command
    {
        public override string Name => "role add";

        public override string Short => "Creates a role";

        public override string Usage => "<role name>";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("role add command requires role name as its argument");
            }
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.RoleAddAsync(args.Positional[0], cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r, o => o.Write($"Role {args.Positional[0]} created\n"));
            return 0;
        }
    }

    private sealed class Delete : Command
    {
        public override string Name => "role delete";

        public override string Short => "Deletes a role";

        public override string Usage => "<role name>";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("role delete command requires role name as its argument");
            }
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.RoleDeleteAsync(args.Positional[0], cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r, o => o.Write($"Role {args.Positional[0]} deleted\n"));
            return 0;
        }
    }

    private sealed class Get : Command
    {
        public override string Name => "role get";

        public override string Short => "Shows a role and its permissions";

        public override string Usage => "<role name>";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("role get command requires role name as its argument");
            }
            var role = args.Positional[0];
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.RoleGetAsync(role, cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r, o => AuthPrinter.RoleGet(o, role, r), o => AuthPrinter.RoleGetFields(o, r));
            return 0;
        }
    }

    private sealed class List : Command
    {
        public override string Name => "role list";

        public override string Short => "Lists the roles";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 0)
            {
                throw CtlContext.BadArgs("role list command requires no arguments");
            }
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.RoleListAsync(cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r,
                o => o.Write(string.Concat(r.Roles.Select(x => x + "\n"))),
                o => o.Write("\"Roles\" :" + string.Concat(r.Roles.Select(x => " " + GoFormat.Quote(x))) + "\n"));
            return 0;
        }
    }

    private sealed class Grant : Command
    {
        public override string Name => "role grant-permission";

        public override string Short => "Gives a role a permission on a key or range";

        public override string Usage => "[options] <role name> <permission type> <key> [endkey]";

        public override IReadOnlyList<Flag> Flags => s_permFlags;

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count < 3)
            {
                throw CtlContext.BadArgs("role grant command requires role name, permission type, and key [endkey] as its argument");
            }
            var type = args.Positional[1].ToUpperInvariant() switch
            {
                "READ" => Permission.Types.Type.Read,
                "WRITE" => Permission.Types.Type.Write,
                "READWRITE" => Permission.Types.Type.Readwrite,
                _ => throw CtlContext.BadArgs($"invalid permission type: {args.Positional[1]}"),
            };
            var (key, end) = PermRange(args, args.Positional.Skip(2).ToList());
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.RoleGrantPermissionAsync(args.Positional[0], key, end, type, cts.Token).ConfigureAwait(false);
            new AuthPrinter(ctx).Print(r, o => o.Write($"Role {args.Positional[0]} updated\n"));
            return 0;
        }
    }

    private sealed class Revoke : Command
    {
        public override string Name => "role revoke-permission";

        public override string Short => "Takes a permission on a key or range away from a role";

        public override string Usage => "<role name> <key> [endkey]";

        public override IReadOnlyList<Flag> Flags => s_permFlags;

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count < 2)
            {
                throw CtlContext.BadArgs("role revoke-permission command requires role name and key [endkey] as its argument");
            }
            var role = args.Positional[0];
            var (key, end) = PermRange(args, args.Positional.Skip(1).ToList());
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            var r = await client.Auth.RoleRevokePermissionAsync(role, key, end, cts.Token).ConfigureAwait(false);
            var k = args.Positional[1];
            var e = end.ToStringUtf8();
            new AuthPrinter(ctx).Print(r, o => o.Write(
                end.IsEmpty ? $"Permission of key {k} is revoked from role {role}\n"
                : e != "\0" ? $"Permission of range [{k}, {e}) is revoked from role {role}\n"
                : $"Permission of range [{k}, <open ended> is revoked from role {role}\n"));
            return 0;
        }
    }
}
