using System.Text;
using Ketch.Api.Etcdserverpb;
using Ketch.Client;

namespace Ketch.Ctl.Commands;

/// <summary><c>txn [-i]</c>: reads compares, success ops and failure ops from stdin, each section ended by an empty line.</summary>
internal sealed class TxnCommand : Command
{
    public override string Name => "txn";

    public override string Short => "Runs comparisons and, depending on them, one of two lists of requests, as one transaction";

    public override string Usage => "[options]";

    public override IReadOnlyList<Flag> Flags => [new("interactive", IsBool: true, Short: "i", Usage: "ask for the transaction's parts one after the other")];

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        var interactive = args.Bool("interactive");
        var request = new TxnRequest();
        if (interactive)
        {
            await ctx.Out.WriteAsync("compares:\n").ConfigureAwait(false);
        }
        foreach (var line in await SectionAsync(ctx).ConfigureAwait(false))
        {
            request.Compare.Add(ParseCompare(line));
        }
        if (interactive)
        {
            await ctx.Out.WriteAsync("success requests (get, put, del):\n").ConfigureAwait(false);
        }
        foreach (var line in await SectionAsync(ctx).ConfigureAwait(false))
        {
            request.Success.Add(ParseOp(line));
        }
        if (interactive)
        {
            await ctx.Out.WriteAsync("failure requests (get, put, del):\n").ConfigureAwait(false);
        }
        foreach (var line in await SectionAsync(ctx).ConfigureAwait(false))
        {
            request.Failure.Add(ParseOp(line));
        }
        using var client = ctx.Client();
        using var cts = ctx.Timeout();
        var r = await client.Kv.TxnAsync(request, cts.Token).ConfigureAwait(false);
        ctx.Printer().Txn(r);
        return 0;
    }

    private static async Task<List<string>> SectionAsync(CtlContext ctx)
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ctx.In.ReadLineAsync(ctx.Interrupt).ConfigureAwait(false)
                ?? throw new CtlException(ExitCode.InvalidInput, "EOF");
            if (line.Length == 0)
            {
                return lines;
            }
            lines.Add(line);
        }
    }

    /// <summary>An operation line: <c>get|put|del</c> with the verb's arguments and flags.</summary>
    private static RequestOp ParseOp(string line)
    {
        var words = Argify(line);
        if (words.Count == 0)
        {
            throw new CtlException(ExitCode.InvalidInput, "empty op");
        }
        var rest = words.Skip(1).ToList();
        switch (words[0])
        {
            case "get":
                return new RequestOp { RequestRange = KvFlags.GetRequest(ParsedArgs.Parse(rest, KvFlags.Get)) };
            case "put":
                var p = ParsedArgs.Parse(rest, KvFlags.Put);
                if (p.Positional.Count != 2)
                {
                    throw CtlContext.BadArgs("put command needs 1 argument and input from stdin or 2 arguments");
                }
                return new RequestOp { RequestPut = KvFlags.PutRequest(p, p.Positional[0], p.Positional[1]) };
            case "del":
                return new RequestOp { RequestDeleteRange = KvFlags.DelRequest(ParsedArgs.Parse(rest, KvFlags.Del)) };
            default:
                throw new CtlException(ExitCode.InvalidInput, $"Invalid txn request: {line}");
        }
    }

    /// <summary>A compare line: <c>target("key") op "value"</c> with target value, version/ver, create/c, mod/m or lease.</summary>
    private static Compare ParseCompare(string line)
    {
        var open = line.IndexOf('(', StringComparison.Ordinal);
        var close = line.IndexOf(')', StringComparison.Ordinal);
        if (open < 0 || close < open)
        {
            throw new CtlException(ExitCode.InvalidInput, $"malformed comparison: {line}; got {line} \"\"");
        }
        var target = line[..open].Trim();
        var key = Unquote(line[(open + 1)..close].Trim());
        var rest = Argify(line[(close + 1)..]);
        if (rest.Count != 2)
        {
            throw new CtlException(ExitCode.InvalidInput, $"malformed comparison: {line}");
        }
        var op = rest[0];
        var val = rest[1];
        long Num() => long.TryParse(val, out var n) ? n : throw new CtlException(ExitCode.InvalidInput, $"invalid txn compare request: {line}");
        return target switch
        {
            "value" or "val" => Cmp.Value(KvFlags.KeyBytes(key), op, KvFlags.KeyBytes(val)),
            "version" or "ver" => Cmp.Version(key, op, Num()),
            "create" or "c" => Cmp.CreateRevision(key, op, Num()),
            "mod" or "m" => Cmp.ModRevision(key, op, Num()),
            "lease" => Cmp.Lease(key, op, KvFlags.LeaseId(val)),
            _ => throw new CtlException(ExitCode.InvalidInput, $"malformed comparison: {line}"),
        };
    }

    private static string Unquote(string s) => Argify(s) is [var one] ? one : s;

    /// <summary>Splits a line into words; double-quoted words take Go escapes, single-quoted are literal.</summary>
    internal static List<string> Argify(string s)
    {
        var words = new List<string>();
        var i = 0;
        while (i < s.Length)
        {
            if (char.IsWhiteSpace(s[i]))
            {
                i++;
                continue;
            }
            var sb = new StringBuilder();
            if (s[i] is '"' or '\'')
            {
                var q = s[i++];
                while (i < s.Length && s[i] != q)
                {
                    if (q == '"' && s[i] == '\\' && i + 1 < s.Length)
                    {
                        i++;
                        sb.Append(s[i] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', var c => c });
                    }
                    else
                    {
                        sb.Append(s[i]);
                    }
                    i++;
                }
                i++;
            }
            else
            {
                while (i < s.Length && !char.IsWhiteSpace(s[i]))
                {
                    sb.Append(s[i++]);
                }
            }
            words.Add(sb.ToString());
        }
        return words;
    }
}
