using System.Globalization;
using System.Text;

namespace Ketch.Ctl;

/// <summary>The text forms etcdctl's output is made of, as Go prints them: <c>%q</c> quoting, durations,
/// go-humanize byte sizes and hex dumps.</summary>
internal static class GoFormat
{
    /// <summary>Go's <c>strconv.Quote</c> of a byte string (invalid UTF-8 bytes as <c>\xNN</c>).</summary>
    public static string Quote(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder("\"");
        var i = 0;
        while (i < bytes.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes[i..], out var rune, out var used);
            if (status != System.Buffers.OperationStatus.Done)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{bytes[i]:x2}");
                i++;
                continue;
            }
            i += used;
            var c = rune.Value;
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\v': sb.Append("\\v"); break;
                default:
                    if (c < 0x20 || c == 0x7f)
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"\\x{c:x2}");
                    }
                    else if (IsPrintable(rune))
                    {
                        sb.Append(rune.ToString());
                    }
                    else if (c < 0x10000)
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"\\u{c:x4}");
                    }
                    else
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"\\U{c:x8}");
                    }
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    public static string Quote(string s) => Quote(Encoding.UTF8.GetBytes(s));

    private static bool IsPrintable(System.Text.Rune r)
    {
        var cat = System.Text.Rune.GetUnicodeCategory(r);
        return cat is not (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator)
            && (cat != UnicodeCategory.SpaceSeparator || r.Value == ' ');
    }

    /// <summary>etcdctl's <c>--hex</c> form: every byte as <c>\xNN</c>.</summary>
    public static string Hex(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length * 4);
        foreach (var b in bytes)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
        }
        return sb.ToString();
    }

    /// <summary>Go's <c>time.Duration.String()</c>.</summary>
    public static string Duration(TimeSpan d)
    {
        var ns = d.Ticks * 100;
        if (ns == 0)
        {
            return "0s";
        }
        if (ns < 1_000)
        {
            return ns.ToString(CultureInfo.InvariantCulture) + "ns";
        }
        if (ns < 1_000_000)
        {
            return Frac(ns, 1_000) + "µs";
        }
        if (ns < 1_000_000_000)
        {
            return Frac(ns, 1_000_000) + "ms";
        }
        var sb = new StringBuilder();
        var h = ns / 3_600_000_000_000;
        ns -= h * 3_600_000_000_000;
        var m = ns / 60_000_000_000;
        ns -= m * 60_000_000_000;
        if (h > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{h}h");
        }
        if (h > 0 || m > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{m}m");
        }
        return sb.Append(Frac(ns, 1_000_000_000)).Append('s').ToString();
    }

    private static string Frac(long v, long unit)
    {
        var whole = v / unit;
        var frac = v % unit;
        if (frac == 0)
        {
            return whole.ToString(CultureInfo.InvariantCulture);
        }
        var digits = unit.ToString(CultureInfo.InvariantCulture).Length - 1;
        return whole.ToString(CultureInfo.InvariantCulture) + "." + frac.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0');
    }

    /// <summary>Parses a Go duration (<c>5s</c>, <c>500ms</c>, <c>1m30s</c>, <c>2h</c>).</summary>
    public static bool TryParseDuration(string s, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (s == "0")
        {
            return true;
        }
        var i = 0;
        double total = 0;
        var neg = s.StartsWith('-');
        if (neg || s.StartsWith('+'))
        {
            i++;
        }
        if (i >= s.Length)
        {
            return false;
        }
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }
            if (start == i || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
            {
                return false;
            }
            var u = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.')
            {
                i++;
            }
            double ns = s[u..i] switch
            {
                "ns" => 1,
                "us" or "µs" or "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => double.NaN,
            };
            if (double.IsNaN(ns))
            {
                return false;
            }
            total += n * ns;
        }
        value = TimeSpan.FromTicks((long)(total / 100) * (neg ? -1 : 1));
        return true;
    }

    /// <summary>go-humanize's <c>Bytes</c>: SI units, e.g. <c>20 kB</c>, <c>1.5 MB</c>.</summary>
    public static string Bytes(ulong s)
    {
        string[] sizes = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
        if (s < 10)
        {
            return s.ToString(CultureInfo.InvariantCulture) + " B";
        }
        var e = Math.Floor(Math.Log(s) / Math.Log(1000));
        var val = Math.Floor((s / Math.Pow(1000, e) * 10) + 0.5) / 10;
        // Go's %.1f / %.0f round half to even.
        var shown = Math.Round(val, val < 10 ? 1 : 0, MidpointRounding.ToEven);
        return shown.ToString(val < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + sizes[(int)e];
    }

    /// <summary>Go's <c>%v</c> of a bool.</summary>
    public static string Bool(bool b) => b ? "true" : "false";

    /// <summary>Lower-case hex without padding (<c>%x</c>).</summary>
    public static string X(ulong v) => v.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Lower-case hex padded with zeros to 16 (<c>%016x</c>).</summary>
    public static string X016(long v) => ((ulong)v).ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Lower-case hex padded with spaces to 16 (<c>%16x</c>).</summary>
    public static string X16(ulong v) => v.ToString("x", CultureInfo.InvariantCulture).PadLeft(16);

    /// <summary>Invariant decimal.</summary>
    public static string D(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Invariant decimal.</summary>
    public static string D(ulong v) => v.ToString(CultureInfo.InvariantCulture);
}
