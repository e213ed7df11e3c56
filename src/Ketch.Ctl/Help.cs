using System.Text;
using Ketch.Ctl.Commands;

namespace Ketch.Ctl;

/// <summary>
/// The help pages, laid out as etcdctl 3.4's usage template (NAME, USAGE, VERSION, API VERSION, DESCRIPTION,
/// COMMANDS, OPTIONS, GLOBAL OPTIONS) and generated from the command table the parser uses: each
/// <see cref="Command"/>'s name, <see cref="Command.Short"/>, <see cref="Command.Usage"/> and
/// <see cref="Command.Description"/>, each <see cref="Flag"/>'s kind, default and usage, and
/// <see cref="CtlContext.GlobalFlags"/>. Columns are aligned with tabs as Go's <c>text/tabwriter</c> does
/// (<see cref="Tabify"/>).
/// </summary>
internal static class Help
{
    /// <summary>The program name help prints where etcdctl prints <c>etcdctl</c>.</summary>
    public const string Binary = "ketchctl";

    private const string RootShort = "A command line client for etcd v3 servers, ketch among them.";

    /// <summary><c>ketchctl</c>, <c>ketchctl --help</c>, <c>ketchctl help</c>; without <paramref name="helpFlag"/>
    /// (<c>help</c> on an unknown topic) the <c>--help</c> line is left out, as cobra's help command leaves it.</summary>
    public static string Root(bool helpFlag = true)
    {
        var sb = new StringBuilder();
        sb.Append($"NAME:\n\t{Binary} - {RootShort}\n\n");
        sb.Append($"USAGE:\n\t{Binary} [flags]\n\n");
        sb.Append($"VERSION:\n\t{VersionCommand.Version}\n\n");
        sb.Append($"API VERSION:\n\t{VersionCommand.ApiVersion}\n\n\n");
        sb.Append("COMMANDS:\n");
        foreach (var c in Runner.Commands.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            sb.Append($"\t{c.Name}\t{c.Short}\n");
        }
        sb.Append("\nOPTIONS:\n");
        sb.Append(FlagLines(CtlContext.GlobalFlags.Where(f => f.Name != "help").Concat(helpFlag ? [HelpFlag(Binary)] : [])));
        sb.Append('\n');
        return Tabify(sb.ToString());
    }

    /// <summary><c>ketchctl member</c> (alone, with <c>--help</c>, or with a word that is none of its commands).</summary>
    public static string ForGroup(CommandGroup group)
    {
        var sb = new StringBuilder();
        sb.Append($"NAME:\n\t{group.Name} - {group.Short}\n\n");
        sb.Append($"USAGE:\n\t{UsageLine(group.Name, group.Usage)}\n\n");
        sb.Append($"API VERSION:\n\t{VersionCommand.ApiVersion}\n\n\n");
        sb.Append("COMMANDS:\n");
        foreach (var c in Runner.Commands.Where(c => GroupOf(c) == group).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            sb.Append($"\t{c.Name[(group.Name.Length + 1)..]}\t{c.Short}\n");
        }
        sb.Append('\n');
        Description(sb, group.Description);
        sb.Append("OPTIONS:\n");
        sb.Append(FlagLines((group.Persistent ?? []).Append(HelpFlag(group.Name))));
        sb.Append("\nGLOBAL OPTIONS:\n");
        sb.Append(FlagLines(CtlContext.GlobalFlags.Where(f => f.Name != "help")));
        sb.Append('\n');
        return Tabify(sb.ToString());
    }

    /// <summary><c>ketchctl put --help</c>, <c>ketchctl help put</c>.</summary>
    public static string For(Command command)
    {
        var persistent = GroupOf(command)?.Persistent ?? [];
        var sb = new StringBuilder();
        sb.Append($"NAME:\n\t{command.Name} - {command.Short}\n\n");
        sb.Append($"USAGE:\n\t{UsageLine(command.Name, command.Usage, command.FlagsInUsage)}\n\n");
        Description(sb, command.Description);
        sb.Append("OPTIONS:\n");
        var local = command.Flags.Where(f => persistent.All(p => p.Name != f.Name));
        sb.Append(FlagLines(local.Append(HelpFlag(command.Name.Split(' ')[^1]))));
        sb.Append("\nGLOBAL OPTIONS:\n");
        sb.Append(FlagLines(CtlContext.GlobalFlags.Where(f => f.Name != "help").Concat(persistent)));
        sb.Append('\n');
        return Tabify(sb.ToString());
    }

    /// <summary>The page for <c>help word...</c>, found as cobra finds it (a command, or the group of the first
    /// word); null when the first word names nothing.</summary>
    public static string? Topic(IReadOnlyList<string> words)
    {
        if (words.Count == 0)
        {
            return Root();
        }
        var two = words.Count > 1 ? words[0] + " " + words[1] : null;
        var command = Runner.Commands.FirstOrDefault(c => c.Name == two) ?? Runner.Commands.FirstOrDefault(c => c.Name == words[0]);
        if (command is not null)
        {
            return For(command);
        }
        var group = Runner.Groups.FirstOrDefault(g => g.Name == words[0]);
        return group is null ? null : ForGroup(group);
    }

    /// <summary>The group a command belongs to (its first word), if any.</summary>
    public static CommandGroup? GroupOf(Command command) =>
        Runner.Groups.FirstOrDefault(g => command.Name.StartsWith(g.Name + " ", StringComparison.Ordinal));

    /// <summary>The DESCRIPTION section, each line indented by a tab; nothing for no text.</summary>
    private static void Description(StringBuilder sb, string text)
    {
        if (text.Length == 0)
        {
            return;
        }
        sb.Append("DESCRIPTION:\n");
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            sb.Append('\t').Append(line).Append('\n');
        }
        sb.Append('\n');
    }

    /// <summary>cobra's usage line: the program, the command's words, its arguments, and <c>[flags]</c>.</summary>
    private static string UsageLine(string name, string usage, bool flags = true) =>
        $"{Binary} {name}{(usage.Length > 0 ? " " + usage : "")}{(flags ? " [flags]" : "")}";

    /// <summary>cobra's <c>--help</c> flag, which every command has: <c>help for &lt;its last word&gt;</c>.</summary>
    private static Flag HelpFlag(string name) => new("help", IsBool: true, Short: "h", Default: "false", Usage: "help for " + name);

    /// <summary>One line per flag, sorted by name as pflag lists them: <c>  -w, --write-out="simple"\tusage</c>.</summary>
    private static string FlagLines(IEnumerable<Flag> flags)
    {
        var sb = new StringBuilder();
        foreach (var f in flags.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            sb.Append(f.Short is null ? "      --" : $"  -{f.Short}, --").Append(f.Name).Append(DefaultText(f)).Append('\t').Append(f.Usage).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>How the default shows: booleans as <c>[=false]</c> (they need no value), strings quoted,
    /// slices in brackets, numbers and durations as written.</summary>
    private static string DefaultText(Flag f)
    {
        if (f.IsBool)
        {
            return $"[={(f.Default.Length == 0 ? "false" : f.Default)}]";
        }
        return f.Kind switch
        {
            FlagKind.Int => "=" + (f.Default.Length == 0 ? "0" : f.Default),
            FlagKind.Duration => "=" + (f.Default.Length == 0 ? "0s" : f.Default),
            FlagKind.StringSlice => $"=[{f.Default}]",
            _ => "=" + GoFormat.Quote(f.Default),
        };
    }

    /// <summary>
    /// Aligns tab-separated cells as Go's <c>tabwriter.NewWriter(w, 1, 8, 1, '\t', 0)</c> does, the writer
    /// etcdctl's help goes through: a cell is text ended by a tab (a line's last text is no cell); a column's
    /// block is a run of consecutive lines that have a cell in that column; its width is its widest cell plus
    /// one, at least one, rounded up to a multiple of 8; each cell is padded to it with tabs.
    /// </summary>
    internal static string Tabify(string text)
    {
        var lines = text.Split('\n').Select(l => l.Split('\t')).ToArray();
        var widths = lines.Select(cells => new int[cells.Length - 1]).ToArray();
        var columns = lines.Max(cells => cells.Length - 1);
        for (var column = 0; column < columns; column++)
        {
            var i = 0;
            while (i < lines.Length)
            {
                if (lines[i].Length - 1 <= column)
                {
                    i++;
                    continue;
                }
                var end = i;
                var width = 1;
                while (end < lines.Length && lines[end].Length - 1 > column)
                {
                    width = Math.Max(width, lines[end][column].Length + 1);
                    end++;
                }
                width = (width + 7) / 8 * 8;
                for (var k = i; k < end; k++)
                {
                    widths[k][column] = width;
                }
                i = end;
            }
        }
        var sb = new StringBuilder(text.Length + 256);
        for (var l = 0; l < lines.Length; l++)
        {
            var cells = lines[l];
            for (var c = 0; c < cells.Length - 1; c++)
            {
                sb.Append(cells[c]).Append('\t', (widths[l][c] - cells[c].Length + 7) / 8);
            }
            sb.Append(cells[^1]);
            if (l < lines.Length - 1)
            {
                sb.Append('\n');
            }
        }
        return sb.ToString();
    }
}
