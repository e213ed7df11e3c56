using System.Text;

namespace Ketch.Raft;

/// <summary>Shared helpers for the stable text forms (<c>Describe()</c>) of Raft data.</summary>
internal static class Describer
{
    /// <summary>Printable ASCII payloads are quoted as text, others shown as hex, so golden
    /// files stay readable and stable.</summary>
    public static void AppendData(StringBuilder sb, ReadOnlySpan<byte> data)
    {
        var printable = true;
        foreach (var b in data)
        {
            if (b < 0x20 || b > 0x7e || b == (byte)'"')
            {
                printable = false;
                break;
            }
        }
        if (printable)
        {
            sb.Append('"');
            foreach (var b in data)
            {
                sb.Append((char)b);
            }
            sb.Append('"');
        }
        else
        {
            sb.Append("0x").Append(Convert.ToHexStringLower(data));
        }
    }

    public static void AppendIds(StringBuilder sb, IReadOnlyList<ulong> ids)
    {
        sb.Append('(');
        for (var i = 0; i < ids.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(' ');
            }
            sb.Append(ids[i]);
        }
        sb.Append(')');
    }
}
