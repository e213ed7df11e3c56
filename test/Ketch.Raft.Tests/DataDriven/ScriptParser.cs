using System.Text;

namespace Ketch.Raft.Tests.DataDriven;

/// <summary>
/// Reads a datadriven script (the format of cockroachdb/datadriven, which etcd-io/raft uses
/// for its interaction tests), keeping every byte that is not expected output so the file
/// can be rewritten with fresh outputs:
/// <code>
/// # a comment
/// command arg key=value list=(1,2,3)
/// optional input lines
/// ----
/// expected output, up to a blank line
///
/// command whose output has blank lines
/// ----
/// ----
/// output
///
/// more output
/// ----
/// ----
/// </code>
/// </summary>
internal static class ScriptParser
{
    public const string Separator = "----";

    /// <summary>A parsed file: verbatim text (comments, blank lines) interleaved with blocks.</summary>
    public sealed record Script(IReadOnlyList<Chunk> Chunks)
    {
        public IEnumerable<TestCase> Cases => Chunks.OfType<Block>().Select(b => b.Case);
    }

    public abstract record Chunk;

    public sealed record Verbatim(string Text) : Chunk;

    /// <summary>A test block; <see cref="Header"/> is the command and input lines as written.</summary>
    public sealed record Block(string Header, TestCase Case) : Chunk;

    public static Script Parse(string file, string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }
        var chunks = new List<Chunk>();
        var verbatim = new StringBuilder();
        var i = 0;
        while (i < lines.Count)
        {
            var line = lines[i];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                verbatim.Append(line).Append('\n');
                i++;
                continue;
            }
            if (verbatim.Length > 0)
            {
                chunks.Add(new Verbatim(verbatim.ToString()));
                verbatim.Clear();
            }
            var lineNo = i + 1;
            var header = new StringBuilder().Append(line).Append('\n');
            var input = new List<string>();
            i++;
            while (i < lines.Count && lines[i] != Separator)
            {
                input.Add(lines[i]);
                header.Append(lines[i]).Append('\n');
                i++;
            }
            if (i == lines.Count)
            {
                throw new FormatException($"{file}:{lineNo}: command without a '{Separator}' line");
            }
            i++;
            var expected = new StringBuilder();
            if (i < lines.Count && lines[i] == Separator)
            {
                // Double separator: the output may contain blank lines and ends at "----\n----".
                i++;
                while (true)
                {
                    if (i + 1 >= lines.Count)
                    {
                        throw new FormatException($"{file}:{lineNo}: output opened with '{Separator}' twice is never closed");
                    }
                    if (lines[i] == Separator && lines[i + 1] == Separator)
                    {
                        i += 2;
                        break;
                    }
                    expected.Append(lines[i]).Append('\n');
                    i++;
                }
                if (i < lines.Count && lines[i].Length == 0)
                {
                    i++;
                }
            }
            else
            {
                while (i < lines.Count && lines[i].Length != 0)
                {
                    expected.Append(lines[i]).Append('\n');
                    i++;
                }
                if (i < lines.Count)
                {
                    i++;
                }
            }
            var (cmd, args) = ParseCommand(file, lineNo, line);
            chunks.Add(new Block(header.ToString(), new TestCase
            {
                File = file,
                Line = lineNo,
                CmdLine = line,
                Cmd = cmd,
                Args = args,
                Input = string.Join('\n', input),
                Expected = expected.ToString(),
            }));
        }
        if (verbatim.Length > 0)
        {
            chunks.Add(new Verbatim(verbatim.ToString()));
        }
        return new Script(chunks);
    }

    /// <summary>Splits <c>name a b=c d=(1, 2)</c> into the name and its arguments.</summary>
    public static (string Cmd, IReadOnlyList<CmdArg> Args) ParseCommand(string file, int lineNo, string line)
    {
        var args = new List<CmdArg>();
        var pos = 0;
        string? cmd = null;
        while (true)
        {
            while (pos < line.Length && line[pos] == ' ')
            {
                pos++;
            }
            if (pos == line.Length)
            {
                break;
            }
            var start = pos;
            while (pos < line.Length && line[pos] != ' ' && line[pos] != '=')
            {
                pos++;
            }
            var key = line[start..pos];
            if (cmd is null)
            {
                if (pos < line.Length && line[pos] == '=')
                {
                    throw new FormatException($"{file}:{lineNo}: the command name cannot have a value");
                }
                cmd = key;
                continue;
            }
            if (pos == line.Length || line[pos] != '=')
            {
                args.Add(new CmdArg(key, []));
                continue;
            }
            pos++;
            if (pos < line.Length && line[pos] == '(')
            {
                var close = line.IndexOf(')', pos);
                if (close < 0)
                {
                    throw new FormatException($"{file}:{lineNo}: unclosed '(' in argument {key}");
                }
                var values = line[(pos + 1)..close]
                    .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                args.Add(new CmdArg(key, values));
                pos = close + 1;
            }
            else
            {
                start = pos;
                while (pos < line.Length && line[pos] != ' ')
                {
                    pos++;
                }
                args.Add(new CmdArg(key, [line[start..pos]]));
            }
        }
        return (cmd ?? throw new FormatException($"{file}:{lineNo}: empty command"), args);
    }

    /// <summary>The text of a block's output as it is written back into a script.</summary>
    public static string FormatOutput(string actual)
    {
        if (actual.Length == 0)
        {
            return Separator + "\n";
        }
        var blankLine = actual.StartsWith('\n') || actual.Contains("\n\n", StringComparison.Ordinal);
        return blankLine
            ? $"{Separator}\n{Separator}\n{actual}{Separator}\n{Separator}\n"
            : $"{Separator}\n{actual}";
    }
}
