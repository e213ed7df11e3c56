using System.Globalization;
using Ketch.Api.Etcdserverpb;
using Ketch.Client;

namespace Ketch.Ctl.Commands;

/// <summary>Turns get/put/del flags into client options (shared by the verbs and by txn's operation lines).</summary>
internal static class KvFlags
{
    public static readonly Flag[] Get =
    [
        new("consistency", Default: "l", Usage: "read consistency: l (linearizable) or s (serializable)"),
        new("order", Usage: "order of the results: ASCEND or DESCEND (ASCEND when only --sort-by is given)"),
        new("sort-by", Usage: "what to sort the results by: CREATE, KEY, MODIFY, VALUE or VERSION"),
        new("limit", Default: "0", Usage: "the most results to return (0: all)", Kind: FlagKind.Int),
        new("prefix", IsBool: true, Usage: "get every key that starts with the key"),
        new("from-key", IsBool: true, Usage: "get every key greater than or equal to the key, in byte order"),
        new("rev", Default: "0", Usage: "the revision to read at (0: the latest)", Kind: FlagKind.Int),
        new("keys-only", IsBool: true, Usage: "print the keys without their values"),
        new("count-only", IsBool: true, Usage: "print only the number of keys"),
        new("print-value-only", IsBool: true, Usage: "print only the values (in the simple output format)"),
    ];

    public static readonly Flag[] Put =
    [
        new("lease", Default: "0", Usage: "the lease (a hexadecimal ID) to attach the key to"),
        new("prev-kv", IsBool: true, Usage: "print the key-value pair the put replaced"),
        new("ignore-value", IsBool: true, Usage: "keep the key's current value"),
        new("ignore-lease", IsBool: true, Usage: "keep the key's current lease"),
    ];

    public static readonly Flag[] Del =
    [
        new("prefix", IsBool: true, Usage: "delete every key that starts with the key"),
        new("prev-kv", IsBool: true, Usage: "print the deleted key-value pairs"),
        new("from-key", IsBool: true, Usage: "delete every key greater than or equal to the key, in byte order"),
    ];

    public static RangeRequest GetRequest(ParsedArgs a)
    {
        if (a.Positional.Count is 0 or > 2)
        {
            throw CtlContext.BadArgs("get command needs one argument as key and an optional argument as range_end");
        }
        if (a.Bool("prefix") && a.Bool("from-key"))
        {
            throw CtlContext.BadArgs("`--prefix` and `--from-key` cannot be set at the same time, choose one");
        }
        var o = new GetOptions
        {
            Prefix = a.Bool("prefix"),
            FromKey = a.Bool("from-key"),
            RangeEnd = a.Positional.Count == 2 ? KeyBytes(a.Positional[1]) : null,
            Limit = a.Long("limit"),
            Revision = a.Long("rev"),
            KeysOnly = a.Bool("keys-only"),
            CountOnly = a.Bool("count-only"),
            Serializable = a.Get("consistency") switch
            {
                "l" => false,
                "s" => true,
                var c => throw CtlContext.BadArgs($"unknown consistency flag \"{c}\""),
            },
            SortOrder = a.Get("order").ToUpperInvariant() switch
            {
                "" => a.IsSet("sort-by") ? RangeRequest.Types.SortOrder.Ascend : RangeRequest.Types.SortOrder.None,
                "ASCEND" => RangeRequest.Types.SortOrder.Ascend,
                "DESCEND" => RangeRequest.Types.SortOrder.Descend,
                _ => throw CtlContext.BadArgs("bad ordering"),
            },
            SortTarget = a.Get("sort-by").ToUpperInvariant() switch
            {
                "" or "KEY" => RangeRequest.Types.SortTarget.Key,
                "CREATE" => RangeRequest.Types.SortTarget.Create,
                "MODIFY" => RangeRequest.Types.SortTarget.Mod,
                "VALUE" => RangeRequest.Types.SortTarget.Value,
                "VERSION" => RangeRequest.Types.SortTarget.Version,
                _ => throw CtlContext.BadArgs("bad sort target"),
            },
        };
        return Op.GetRequest(KeyBytes(a.Positional[0]), o);
    }

    public static PutRequest PutRequest(ParsedArgs a, string key, string value) =>
        Op.PutRequest(KeyBytes(key), KeyBytes(value), new PutOptions
        {
            Lease = LeaseId(a.Get("lease")),
            PrevKv = a.Bool("prev-kv"),
            IgnoreValue = a.Bool("ignore-value"),
            IgnoreLease = a.Bool("ignore-lease"),
        });

    public static DeleteRangeRequest DelRequest(ParsedArgs a)
    {
        if (a.Positional.Count is 0 or > 2)
        {
            throw CtlContext.BadArgs("del command needs one argument as key and an optional argument as range_end");
        }
        if (a.Bool("prefix") && a.Bool("from-key"))
        {
            throw CtlContext.BadArgs("`--prefix` and `--from-key` cannot be set at the same time, choose one");
        }
        return Op.DeleteRequest(KeyBytes(a.Positional[0]), new DeleteOptions
        {
            Prefix = a.Bool("prefix"),
            FromKey = a.Bool("from-key"),
            PrevKv = a.Bool("prev-kv"),
            RangeEnd = a.Positional.Count == 2 ? KeyBytes(a.Positional[1]) : null,
        });
    }

    /// <summary>Lease ids are hexadecimal on etcdctl's command line.</summary>
    public static long LeaseId(string s, bool argument = false)
    {
        if (!long.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id))
        {
            throw CtlContext.BadArgs($"bad lease ID{(argument ? " arg" : "")} (strconv.ParseInt: parsing \"{s}\": invalid syntax), expecting ID in Hex");
        }
        return id;
    }

    /// <summary>Member ids are hexadecimal too.</summary>
    public static ulong MemberId(string s) =>
        ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw CtlContext.BadArgs($"bad member ID arg (strconv.ParseUint: parsing \"{s}\": invalid syntax), expecting ID in Hex");

    public static Google.Protobuf.ByteString KeyBytes(string s) => Google.Protobuf.ByteString.CopyFromUtf8(s);
}
