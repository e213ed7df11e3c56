using System.Text;

namespace Ketch.Ctl.Printers;

/// <summary>The table layout etcdctl prints (olekukonko/tablewriter with right-aligned cells):
/// upper-case headers centered, a rule above and below the header and at the end.</summary>
internal static class Table
{
    public static string Render(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var body = rows.ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, body.Count == 0 ? 0 : body.Max(r => r[i].Length))).ToArray();
        var rule = "+" + string.Join("+", widths.Select(w => new string('-', w + 2))) + "+\n";
        var sb = new StringBuilder(rule);
        sb.Append('|');
        for (var i = 0; i < header.Count; i++)
        {
            var h = header[i].ToUpperInvariant();
            var gap = widths[i] - h.Length;
            var left = gap / 2;
            sb.Append(' ').Append(' ', left).Append(h).Append(' ', gap - left).Append(" |");
        }
        sb.Append('\n').Append(rule);
        foreach (var r in body)
        {
            sb.Append('|');
            for (var i = 0; i < header.Count; i++)
            {
                sb.Append(' ').Append(r[i].PadLeft(widths[i])).Append(" |");
            }
            sb.Append('\n');
        }
        return sb.Append(rule).ToString();
    }
}
