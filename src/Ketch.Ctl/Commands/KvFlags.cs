using System.Globalization;
using Ketch.Api.Etcdserverpb;
using Ketch.Client;

namespace Ketch.Ctl.Commands;

/// <summary>Turns get/put/del flags into client options (shared by the verbs and by txn's operation lines).</summary>
internal static class KvFlags
{
    public static readonly Flag[] Get =
    [
        new("consistency", Default: "l"), new("order"), new("sort-by"), new("limit", Default: "0"),
        new("prefix", IsBool: true), new("from-key", IsBool: true), new("rev", Default: "0"),
        new("keys-only", IsBool: true), new("count-only", IsBool: true), new("print-value-only", IsBool: true),
    ];

    public static readonly Flag[] Put = [new("lease", Default: "0"), new("prev-kv", IsBool: true), new("ignore-value", IsBool: true), new("ignore-lease", IsBool: true)];

    public static readonly Flag[] Del = [new("prefix", IsBool: true), new("prev-kv", IsBool: true), new("from-key", IsBool: true)];

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
