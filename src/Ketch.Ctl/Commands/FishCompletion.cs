using System.Text;

namespace Ketch.Ctl.Commands;

/// <summary>The fish completion script of <c>completion fish</c>: one <c>complete</c> rule per command word,
/// sub-command and flag, each guarded by a condition on the command words typed so far, which a helper
/// function finds by skipping flags and the values of the flags that take one (so <c>--endpoints a:1 lease g</c>
/// completes <c>grant</c>). Flag values: etcdctl's accepted values, directories, files, or nothing (an endpoint
/// or a number is the user's to type).</summary>
internal static class FishCompletion
{
    public static string Script(bool descriptions)
    {
        var sb = new StringBuilder();
        sb.Append("# fish completion for ketchctl: load with  ketchctl completion fish | source\n");
        sb.Append("# or save it as ~/.config/fish/completions/ketchctl.fish\n\n");
        sb.Append(
            $$"""
            # The command words typed before the cursor, one per line: flags, the values of the flags that take one,
            # and everything after "--" skipped.
            function __ketchctl_words
                set -l valued {{string.Join(" ", CompletionCommand.ValuedWords.Select(Quote))}}
                set -l tokens (commandline -opc)
                set -l i 2
                while test $i -le (count $tokens)
                    set -l t $tokens[$i]
                    set i (math $i + 1)
                    switch "$t"
                        case --
                            return
                        case '-*=*'
                        case '-*'
                            if contains -- "$t" $valued
                                set i (math $i + 1)
                            end
                        case '*'
                            printf '%s\n' "$t"
                    end
                end
            end

            # No command word yet.
            function __ketchctl_none
                test (count (__ketchctl_words)) -eq 0
            end

            # Only the group's word ($argv[1]) so far: its sub-commands come next.
            function __ketchctl_group
                set -l w (__ketchctl_words)
                test (count $w) -eq 1; and test "$w[1]" = "$argv[1]"
            end

            # The command being typed is $argv[1] ("put", "lease grant").
            function __ketchctl_command
                set -l w (__ketchctl_words)
                set -l path "$w[1]"
                if test (count $w) -ge 2; and contains -- "$w[1]" {{string.Join(" ", Runner.Groups.Select(g => Quote(g.Name)))}}
                    set path "$w[1] $w[2]"
                end
                test "$path" = "$argv[1]"
            end

            complete -c ketchctl -e

            """);
        sb.Append("\n# Commands, and the sub-commands of each group.\n");
        foreach (var (word, text) in CompletionCommand.TopWords)
        {
            sb.Append($"complete -c ketchctl -f -n __ketchctl_none -a {Quote(word)}{Describe(text, descriptions)}\n");
        }
        foreach (var c in Runner.Commands.Where(c => c.Name.Contains(' ', StringComparison.Ordinal)))
        {
            var words = c.Name.Split(' ');
            sb.Append($"complete -c ketchctl -f -n {Quote("__ketchctl_group " + words[0])} -a {Quote(words[1])}{Describe(c.Short, descriptions)}\n");
        }
        sb.Append("\n# Global flags.\n");
        foreach (var f in CtlContext.GlobalFlags.Where(f => f.Name != "help"))
        {
            sb.Append($"complete -c ketchctl{FlagRule(f, descriptions)}\n");
        }
        sb.Append($"complete -c ketchctl -l help -s h{Describe("help for ketchctl or the command", descriptions)}\n");
        sb.Append("\n# Each command's flags.\n");
        foreach (var c in Runner.Commands)
        {
            foreach (var f in c.Flags)
            {
                sb.Append($"complete -c ketchctl -n {Quote($"__ketchctl_command '{c.Name}'")}{FlagRule(f, descriptions)}\n");
            }
        }
        return sb.ToString();
    }

    /// <summary>The options of <c>complete</c> for one flag: its names, and what its value is.</summary>
    private static string FlagRule(Flag f, bool descriptions)
    {
        var sb = new StringBuilder($" -l {Quote(f.Name)}");
        if (f.Short is not null)
        {
            sb.Append($" -s {Quote(f.Short)}");
        }
        if (!f.IsBool)
        {
            var values = CompletionCommand.FlagValues.Where(v => v.Flag == f.Name).Select(v => v.Values).FirstOrDefault();
            if (values is not null)
            {
                sb.Append($" -x -a {Quote(values)}");
            }
            else if (CompletionCommand.DirFlags.Contains(f.Name))
            {
                sb.Append(" -x -a '(__fish_complete_directories)'");
            }
            else if (CompletionCommand.FileFlags.Contains(f.Name))
            {
                sb.Append(" -r -F");
            }
            else
            {
                // A value of the user's own (an endpoint, a number, a name): no file names offered.
                sb.Append(" -x");
            }
        }
        return sb.Append(Describe(f.Usage, descriptions)).ToString();
    }

    private static string Describe(string text, bool descriptions) =>
        descriptions && text.Length > 0 ? " -d " + Quote(text) : "";

    /// <summary>A fish single-quoted string: only <c>\</c> and <c>'</c> are escaped there.</summary>
    internal static string Quote(string s) => "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
}
