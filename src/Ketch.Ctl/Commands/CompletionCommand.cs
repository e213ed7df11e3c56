using System.Text;

namespace Ketch.Ctl.Commands;

/// <summary><c>completion bash|zsh</c>: a shell completion script for ketchctl, generated from the command table
/// (commands, sub-commands, each command's flags and the global ones, values of the enumerated flags, files
/// otherwise). etcdctl 3.4's cobra scripts call back into the binary (<c>__complete</c>); ours are
/// self-contained. The zsh script is the bash one under zsh's <c>bashcompinit</c>.</summary>
internal static class CompletionCommand
{
    public static Command[] All => [new Bash(), new Zsh()];

    /// <summary>The group's word, for help.</summary>
    public static CommandGroup Group { get; } = new("completion", "Prints a shell completion script for ketchctl", "",
        Description: "Prints a script that makes a shell complete ketchctl's commands and flags.\n" +
            "The help of each shell's command tells how to load it.");

    private sealed class Bash : Command
    {
        public override string Name => "completion bash";

        public override string Short => "Prints a bash completion script for ketchctl";

        public override IReadOnlyList<Flag> Flags => [NoDescriptions];

        public override string Description =>
            "Prints a script that makes bash complete ketchctl's commands and flags.\n" +
            "\n" +
            "To use it in the current shell:\n" +
            "\n" +
            "\tsource <(ketchctl completion bash)\n" +
            "\n" +
            "To have it in every new shell, save it once, for example:\n" +
            "\n" +
            "\tketchctl completion bash > /etc/bash_completion.d/ketchctl";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            await ctx.Out.WriteAsync(BashScript()).ConfigureAwait(false);
            return 0;
        }
    }

    private sealed class Zsh : Command
    {
        public override string Name => "completion zsh";

        public override string Short => "Prints a zsh completion script for ketchctl";

        public override IReadOnlyList<Flag> Flags => [NoDescriptions];

        public override string Description =>
            "Prints a script that makes zsh complete ketchctl's commands and flags\n" +
            "(the bash script, loaded through zsh's bashcompinit).\n" +
            "\n" +
            "To use it in the current shell:\n" +
            "\n" +
            "\tsource <(ketchctl completion zsh)\n" +
            "\n" +
            "To have it in every new shell, add that line to ~/.zshrc.";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            await ctx.Out.WriteAsync(
                "#compdef ketchctl\n\n# zsh completion for ketchctl: load with  source <(ketchctl completion zsh)\n" +
                "autoload -U +X bashcompinit && bashcompinit\n\n" + BashScript()).ConfigureAwait(false);
            return 0;
        }
    }

    /// <summary>cobra's flag to leave descriptions out of completions; ours never have any, so it changes nothing.</summary>
    private static readonly Flag NoDescriptions = new("no-descriptions", IsBool: true, Usage: "leave descriptions out of the completions (there are none)");

    /// <summary>Values offered after these flags (etcdctl's accepted values).</summary>
    private static readonly (string Flags, string Values)[] s_values =
    [
        ("-w|--write-out", "fields json protobuf simple table"),
        ("--load", "s m l xl"),
        ("--order", "ASCEND DESCEND"),
        ("--sort-by", "CREATE KEY MODIFY VALUE VERSION"),
        ("--consistency", "l s"),
    ];

    private static string Words(IEnumerable<string> words) => string.Join(" ", words.Distinct(StringComparer.Ordinal));

    private static IEnumerable<string> FlagWords(IEnumerable<Flag> flags) =>
        flags.SelectMany(f => f.Short is null ? ["--" + f.Name] : new[] { "--" + f.Name, "-" + f.Short });

    internal static string BashScript()
    {
        var commands = Runner.Commands;
        var global = CtlContext.GlobalFlags;
        var valued = Words(FlagWords(global.Concat(commands.SelectMany(c => c.Flags)).Where(f => !f.IsBool)).Order(StringComparer.Ordinal));
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
        foreach (var (flags, values) in s_values)
        {
            sb.Append($"            {flags}) COMPREPLY=( $(compgen -W '{values}' -- \"$cur\") ) ;;\n");
        }
        sb.Append(
            """
                        --data-dir|--wal-dir) COMPREPLY=( $(compgen -d -- "$cur") ) ;;
                        --cacert|--cert|--key) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
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
