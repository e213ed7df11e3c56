using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Ketch.Ctl;

/// <summary>JSON as Go's <c>encoding/json</c> writes etcd's gogo-generated structs: proto field names as keys,
/// zero values omitted, 64-bit integers as numbers, bytes in base64, enums as numbers, HTML-safe escaping,
/// and oneofs as <c>{"Name":{"field":...}}</c>.</summary>
internal sealed class GoJson
{
    private readonly StringBuilder _sb = new();
    private bool _needComma;

    public override string ToString() => _sb.ToString();

    public static string Of(IMessage m)
    {
        var j = new GoJson();
        j.Message(m);
        return j.ToString();
    }

    public GoJson Begin()
    {
        Sep();
        _sb.Append('{');
        _needComma = false;
        return this;
    }

    public GoJson End()
    {
        _sb.Append('}');
        _needComma = true;
        return this;
    }

    public GoJson BeginArray()
    {
        Sep();
        _sb.Append('[');
        _needComma = false;
        return this;
    }

    public GoJson EndArray()
    {
        _sb.Append(']');
        _needComma = true;
        return this;
    }

    public GoJson Key(string name)
    {
        Sep();
        Str(name);
        _sb.Append(':');
        _needComma = false;
        return this;
    }

    public GoJson Raw(string literal)
    {
        Sep();
        _sb.Append(literal);
        _needComma = true;
        return this;
    }

    public GoJson String(string s)
    {
        Sep();
        Str(s);
        _needComma = true;
        return this;
    }

    public GoJson Number(long v) => Raw(v.ToString(CultureInfo.InvariantCulture));

    public GoJson Number(ulong v) => Raw(v.ToString(CultureInfo.InvariantCulture));

    public GoJson Bool(bool b) => Raw(b ? "true" : "false");

    public GoJson Bytes(ByteString b) => String(Convert.ToBase64String(b.Span));

    /// <summary>Writes the fields of a message (without braces when <paramref name="inline"/>, for Go's embedded structs).</summary>
    public GoJson Message(IMessage m, bool inline = false)
    {
        if (!inline)
        {
            Begin();
        }
        var oneofsDone = new HashSet<OneofDescriptor>();
        foreach (var f in m.Descriptor.Fields.InDeclarationOrder())
        {
            if (f.RealContainingOneof is { } oneof)
            {
                if (!oneofsDone.Add(oneof))
                {
                    continue;
                }
                Key(GoName(oneof.Name));
                var set = oneof.Accessor.GetCaseFieldDescriptor(m);
                if (set is null)
                {
                    Raw("null");
                }
                else
                {
                    Begin();
                    Key(GoName(set.Name));
                    Value(set, set.Accessor.GetValue(m));
                    End();
                }
                continue;
            }
            var v = f.Accessor.GetValue(m);
            if (IsEmpty(f, v))
            {
                continue;
            }
            Key(f.Name);
            Value(f, v);
        }
        if (!inline)
        {
            End();
        }
        return this;
    }

    private static string GoName(string protoName) =>
        string.Concat(protoName.Split('_').Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..]));

    private static bool IsEmpty(FieldDescriptor f, object? v)
    {
        if (f.IsRepeated)
        {
            return v is System.Collections.ICollection { Count: 0 };
        }
        return v switch
        {
            null => true,
            bool b => !b,
            int i => i == 0,
            long l => l == 0,
            uint u => u == 0,
            ulong ul => ul == 0,
            string s => s.Length == 0,
            ByteString bs => bs.IsEmpty,
            Enum e => Convert.ToInt64(e, CultureInfo.InvariantCulture) == 0,
            _ => false,
        };
    }

    private void Value(FieldDescriptor f, object? v)
    {
        if (f.IsRepeated && v is System.Collections.IEnumerable list)
        {
            BeginArray();
            foreach (var item in list)
            {
                Single(item);
            }
            EndArray();
            return;
        }
        Single(v);
    }

    private void Single(object? v)
    {
        switch (v)
        {
            case null: Raw("null"); break;
            case IMessage m: Message(m); break;
            case ByteString b: Bytes(b); break;
            case string s: String(s); break;
            case bool b: Bool(b); break;
            case Enum e: Number(Convert.ToInt64(e, CultureInfo.InvariantCulture)); break;
            case int i: Number(i); break;
            case long l: Number(l); break;
            case uint u: Number(u); break;
            case ulong ul: Number(ul); break;
            default: String(v.ToString() ?? ""); break;
        }
    }

    private void Sep()
    {
        if (_needComma)
        {
            _sb.Append(',');
        }
    }

    /// <summary>Go's JSON string escaping (HTML-safe).</summary>
    private void Str(string s)
    {
        _sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': _sb.Append("\\\""); break;
                case '\\': _sb.Append("\\\\"); break;
                case '\n': _sb.Append("\\n"); break;
                case '\r': _sb.Append("\\r"); break;
                case '\t': _sb.Append("\\t"); break;
                case '<' or '>' or '&' or '\u2028' or '\u2029':
                    _sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    break;
                default:
                    if (c < 0x20)
                    {
                        _sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        _sb.Append(c);
                    }
                    break;
            }
        }
        _sb.Append('"');
    }
}
