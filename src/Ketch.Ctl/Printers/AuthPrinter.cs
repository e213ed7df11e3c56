using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Ctl.Printers;

/// <summary>
/// etcdctl's output of the user and role commands: simple text, <c>json</c> (the RPC response),
/// <c>fields</c> (the header, plus permissions or role names where etcdctl prints them); the
/// <c>table</c> format and <c>fields</c> for user get/list are unsupported, as in etcdctl. Kept
/// apart from <see cref="Printer"/> because only these commands use it.
/// </summary>
internal sealed class AuthPrinter
{
    private readonly string _format;
    private readonly TextWriter _out;

    public AuthPrinter(CtlContext ctx)
    {
        _format = ctx.WriteOut;
        _out = ctx.Out;
        // Unknown formats fail as for every other command.
        Printer.Create(_format, false, false, TextWriter.Null);
    }

    /// <summary>Prints <paramref name="response"/>; <paramref name="simple"/> writes the simple form;
    /// <paramref name="fields"/> what follows the header in the fields form (null: unsupported).</summary>
    public void Print(IMessage response, Action<TextWriter> simple, Action<TextWriter>? fields = null, bool fieldsSupported = true)
    {
        switch (_format)
        {
            case "simple":
                simple(_out);
                break;
            case "json":
                _out.Write(GoJson.Of(response) + "\n");
                break;
            case "fields" when fieldsSupported:
                var h = response.Descriptor.FindFieldByName("header")?.Accessor.GetValue(response) as ResponseHeader ?? new ResponseHeader();
                _out.Write($"\"ClusterID\" : {GoFormat.D(h.ClusterId)}\n\"MemberID\" : {GoFormat.D(h.MemberId)}\n\"Revision\" : {GoFormat.D(h.Revision)}\n\"RaftTerm\" : {GoFormat.D(h.RaftTerm)}\n");
                fields?.Invoke(_out);
                break;
            default:
                throw new CtlException(ExitCode.BadFeature, $"{_format} not supported as output format");
        }
    }

    /// <summary>etcdctl's simple <c>role get</c>: read then write permissions, ranges with their ends.</summary>
    public static void RoleGet(TextWriter o, string role, AuthRoleGetResponse r)
    {
        o.Write($"Role {role}\nKV Read:\n");
        foreach (var p in r.Perm.Where(p => p.PermType != Api.Authpb.Permission.Types.Type.Write))
        {
            Perm(o, p);
        }
        o.Write("KV Write:\n");
        foreach (var p in r.Perm.Where(p => p.PermType != Api.Authpb.Permission.Types.Type.Read))
        {
            Perm(o, p);
        }
    }

    private static void Perm(TextWriter o, Api.Authpb.Permission p)
    {
        var key = p.Key.ToStringUtf8();
        if (p.RangeEnd.IsEmpty)
        {
            o.Write($"\t{key}\n");
            return;
        }
        var end = p.RangeEnd.ToStringUtf8();
        o.Write(end != "\0" ? $"\t[{key}, {end})" : $"\t[{key}, <open ended>");
        if (Client.KeyRange.PrefixEnd(p.Key) == p.RangeEnd)
        {
            o.Write($" (prefix {key})");
        }
        o.Write("\n");
    }

    /// <summary>The fields form of <c>role get</c>: each permission's type, key and range end.</summary>
    public static void RoleGetFields(TextWriter o, AuthRoleGetResponse r)
    {
        foreach (var p in r.Perm)
        {
            // Go's fmt.Println puts a space between its operands: two spaces after the colon.
            o.Write($"\"PermType\" :  {p.PermType.ToString().ToUpperInvariant()}\n");
            o.Write($"\"Key\" : {GoFormat.Quote(p.Key.Span)}\n");
            o.Write($"\"RangeEnd\" : {GoFormat.Quote(p.RangeEnd.Span)}\n");
        }
    }
}
