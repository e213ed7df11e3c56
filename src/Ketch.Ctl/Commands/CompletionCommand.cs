using System.Text;

namespace Ketch.Ctl.Commands;

/// <summary><c>completion bash|zsh|fish|powershell</c>: a shell completion script for ketchctl, generated from the
/// command table (commands, sub-commands, each command's flags and the global ones, values of the enumerated
/// flags, files or directories where a flag names one). etcdctl 3.4's cobra scripts call back into the binary
/// (<c>__complete</c>); ours are self-contained. The zsh script is the bash one under zsh's <c>bashcompinit</c>;
/// the fish and PowerShell ones (<see cref="FishCompletion"/>, <see cref="PowerShellCompletion"/>) show each
/// command's and flag's help line next to it unless <c>--no-descriptions</c>.</summary>
internal static class CompletionCommand
{
    public static Command[] All =>
    [
        new Shell("bash", "Prints a bash completion script for ketchctl",
            "Prints a script that makes bash complete ketchctl's commands and flags.\n" +
            "\n" +
            "To use it in the current shell:\n" +
            "\n" +
            "\tsource <(ketchctl completion bash)\n" +
            "\n" +
            "To have it in every new shell, save it once, for example:\n" +
            "\n" +
            "\tketchctl completion bash > /etc/bash_completion.d/ketchctl",
            _ => BashScript(), flagsInUsage: false),
        new Shell("zsh", "Prints a zsh completion script for ketchctl",
            "Prints a script that makes zsh complete ketchctl's commands and flags\n" +
            "(the bash script, loaded through zsh's bashcompinit).\n" +
            "\n" +
            "To use it in the current shell:\n" +
            "\n" +
            "\tsource <(ketchctl completion zsh)\n" +
            "\n" +
            "To have it in every new shell, add that line to ~/.zshrc.",
            _ => "#compdef ketchctl\n\n# zsh completion for ketchctl: load with  source <(ketchctl completion zsh)\n" +
                "autoload -U +X bashcompinit && bashcompinit\n\n" + BashScript()),
        new Shell("fish", "Prints a fish completion script for ketchctl",
            "Prints a script that makes fish complete ketchctl's commands and flags,\n" +
            "each with its help line unless --no-descriptions.\n" +
            "\n" +
            "To use it in the current shell:\n" +
            "\n" +
            "\tketchctl completion fish | source\n" +
            "\n" +
            "To have it in every new shell, save it once:\n" +
            "\n" +
            "\tketchctl completion fish > ~/.config/fish/completions/ketchctl.fish",
            FishCompletion.Script),
        new Shell("powershell", "Prints a PowerShell completion script for ketchctl",
            "Prints a script that makes PowerShell complete ketchctl's commands and flags,\n" +
            "each with its help line as a tooltip unless --no-descriptions.\n" +
            "\n" +
            "To use it in the current shell:\n" +
            "\n" +
            "\tketchctl completion powershell | Out-String | Invoke-Expression\n" +
            "\n" +
            "To have it in every new shell, add that line to your PowerShell profile.",
            PowerShellCompletion.Script),
    ];

    /// <summary>The group's word, for help.</summary>
    public static CommandGroup Group { get; } = new("completion", "Prints a shell completion script for ketchctl", "",
        Description: "Prints a script that makes a shell complete ketchctl's commands and flags.\n" +
            "The help of each shell's command tells how to load it.");

    /// <summary><c>completion &lt;shell&gt;</c>: prints the script <paramref name="script"/> makes (given whether to
    /// include descriptions); <paramref name="flagsInUsage"/>: false for bash, whose usage line cobra writes
    /// without <c>[flags]</c>.</summary>
    private sealed class Shell(string shell, string shortText, string description, Func<bool, string> script, bool flagsInUsage = true) : Command
    {
        public override bool FlagsInUsage => flagsInUsage;

        public override string Name => "completion " + shell;

        public override string Short => shortText;

        public override string Description => description;

        public override IReadOnlyList<Flag> Flags => [NoDescriptions];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            await ctx.Out.WriteAsync(script(!args.Bool("no-descriptions"))).ConfigureAwait(false);
            return 0;
        }
    }

    /// <summary>cobra's flag to leave descriptions out of completions (bash and zsh show none anyway).</summary>
    private static readonly Flag NoDescriptions = new("no-descriptions", IsBool: true, Usage: "leave descriptions out of the completions (fish and powershell)");

    /// <summary>Values offered after these flags (etcdctl's accepted values), by flag name.</summary>
    internal static readonly (string Flag, string Values)[] FlagValues =
    [
        ("write-out", "fields json protobuf simple table"),
        ("load", "s m l xl"),
        ("order", "ASCEND DESCEND"),
        ("sort-by", "CREATE KEY MODIFY VALUE VERSION"),
        ("consistency", "l s"),
    ];

    /// <summary>Flags whose value is a file.</summary>
    internal static readonly string[] FileFlags = ["cacert", "cert", "key", "dest-cacert", "dest-cert", "dest-key"];

    /// <summary>Flags whose value is a directory.</summary>
    internal static readonly string[] DirFlags = ["data-dir", "wal-dir"];

    /// <summary>Every flag a command line can hold (global and every command's), once each by name.</summary>
    internal static IEnumerable<Flag> AllFlags =>
        CtlContext.GlobalFlags.Concat(Runner.Commands.SelectMany(c => c.Flags)).DistinctBy(f => f.Name);

    /// <summary>The words a flag is written as: <c>--name</c>, and <c>-s</c> if it has a shorthand.</summary>
    internal static IEnumerable<string> FlagWords(Flag f) => f.Short is null ? ["--" + f.Name] : ["--" + f.Name, "-" + f.Short];

    /// <summary>The words of the flags that take a value (the word after them is that value, not a command).</summary>
    internal static IEnumerable<string> ValuedWords => AllFlags.Where(f => !f.IsBool).SelectMany(FlagWords).Order(StringComparer.Ordinal);

    /// <summary>The first words of commands, in help's order, each with its help line (a group's, for a group).</summary>
    internal static IEnumerable<(string Word, string Short)> TopWords =>
        Runner.Commands.Select(c => c.Name.Split(' ')[0]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(w => (w, Runner.Commands.FirstOrDefault(c => c.Name == w)?.Short ?? Runner.Groups.First(g => g.Name == w).Short));

    private static string Words(IEnumerable<string> words) => string.Join(" ", words.Distinct(StringComparer.Ordinal));

    private static IEnumerable<string> FlagWords(IEnumerable<Flag> flags) => flags.SelectMany(FlagWords);

    /// <summary>A bash <c>case</c> pattern for the words of the named flags: <c>-w|--write-out</c>.</summary>
    private static string CasePattern(IEnumerable<string> names) =>
        string.Join("|", names.SelectMany(n => AllFlags.Where(f => f.Name == n)).SelectMany(FlagWords));

    internal static string BashScript()
    {
        var commands = Runner.Commands;
        var global = CtlContext.GlobalFlags;
        var valued = Words(ValuedWords);
        var sb = new StringBuilder();
        sb.Append("# bash completion for ketchctl                              -*- shell-script -*-\n");
        sb.Append("# Load with  source <(ketchctl completion bash)  or save it as /etc/bash_completion.d/ketchctl\n\n");
        sb.Append("__ketchctl_flags()\n{\n    case \"$1\" in\n");
        foreach (var c in commands.Where(c => c.Flags.Count > 0))
        {
            sb.Append($"        '{c.Name}') echo '{Words(FlagWords(c.Flags))}' ;;\n");
        }
        sb.Append("    esac\n}\n\n");
        sb.Append("__ketchctl_subcommands()\n{\n    case \"$1\" in\n");
        foreach (var group in commands.Where(c => c.Name.Contains(' ', StringComparison.Ordinal)).GroupBy(c => c.Name.Split(' ')[0]))
        {
            sb.Append($"        '{group.Key}') echo '{Words(group.Select(c => c.Name.Split(' ')[1]))}' ;;\n");
        }
        sb.Append("    esac\n}\n\n");
        sb.Append(
            $$"""
            _ketchctl()
            {
                # Words split at blanks only (COMP_WORDS is also split at '=' and ':', which endpoints contain).
                local line="${COMP_LINE:0:COMP_POINT}"
                local -a all=()
                read -ra all <<< "$line"
                [[ -z $line || $line == *[[:space:]] ]] && all+=("")
                local n=${#all[@]}
                local cur="${all[n-1]}" prev=""
                (( n >= 2 )) && prev="${all[n-2]}"
                local valued=' {{valued}} '
                local global='{{Words(FlagWords(global))}}'
                local -a words=()
                local i w flag=""
                COMPREPLY=()
                # The command's words so far: skip flags and their values.
                for (( i=1; i < n-1; i++ )); do
                    w="${all[i]}"
                    if [[ $w == -- ]]; then
                        return 0
                    elif [[ $w == -*=* ]]; then
                        continue
                    elif [[ $w == -* ]]; then
                        [[ $valued == *" $w "* ]] && (( i++ ))
                    else
                        words+=("$w")
                    fi
                done
                # A flag's value: after "--flag " or in "--flag=" (bash completes the part after '=').
                if [[ $cur == -*=* ]]; then
                    flag="${cur%%=*}"
                    cur="${cur#*=}"
                elif [[ $valued == *" $prev "* ]]; then
                    flag="$prev"
                fi
                if [[ -n $flag ]]; then
                    case "$flag" in

            """);
        foreach (var (flag, values) in FlagValues)
        {
            sb.Append($"            {CasePattern([flag])}) COMPREPLY=( $(compgen -W '{values}' -- \"$cur\") ) ;;\n");
        }
        sb.Append($"            {CasePattern(DirFlags)}) COMPREPLY=( $(compgen -d -- \"$cur\") ) ;;\n");
        sb.Append($"            {CasePattern(FileFlags)}) COMPREPLY=( $(compgen -f -- \"$cur\") ) ;;\n");
        sb.Append(
            """
                    esac
                    return 0
                fi
                local path="${words[0]}"
                if [[ ${#words[@]} -ge 2 && -n $(__ketchctl_subcommands "${words[0]}") ]]; then
                    path="${words[0]} ${words[1]}"
                fi
                if [[ $cur == -* ]]; then
                    COMPREPLY=( $(compgen -W "$(__ketchctl_flags "$path") $global" -- "$cur") )
                elif [[ ${#words[@]} -eq 0 ]]; then

            """);
        sb.Append($"            COMPREPLY=( $(compgen -W '{Words(commands.Select(c => c.Name.Split(' ')[0]))}' -- \"$cur\") )\n");
        sb.Append(
            """
                elif [[ ${#words[@]} -eq 1 && -n $(__ketchctl_subcommands "${words[0]}") ]]; then
                    COMPREPLY=( $(compgen -W "$(__ketchctl_subcommands "${words[0]}")" -- "$cur") )
                fi
                return 0
            }

            complete -o default -F _ketchctl ketchctl

            """);
        return sb.ToString();
    }
}
