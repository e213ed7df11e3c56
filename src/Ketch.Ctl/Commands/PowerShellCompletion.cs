using System.Text;

namespace Ketch.Ctl.Commands;

/// <summary>The PowerShell completion script of <c>completion powershell</c>: a native argument completer holding
/// the command table as hashtables (sub-commands by group, flags by command, values by flag) and the same rules
/// as the bash script: the command words are the words before the cursor without flags and the values of the
/// flags that take one; a flag's value is completed after <c>--flag </c> or in <c>--flag=</c>; where it offers
/// nothing (a key, a file), PowerShell completes paths.</summary>
internal static class PowerShellCompletion
{
    public static string Script(bool descriptions)
    {
        string Tip(string text) => Quote(descriptions && text.Length > 0 ? text : "");
        var sb = new StringBuilder();
        sb.Append("# powershell completion for ketchctl: load with  ketchctl completion powershell | Out-String | Invoke-Expression\n\n");
        sb.Append("Register-ArgumentCompleter -Native -CommandName 'ketchctl' -ScriptBlock {\n");
        sb.Append("    param($WordToComplete, $CommandAst, $CursorPosition)\n\n");
        sb.Append("    # The words that may come next, with their help lines: by the command words before them ('' for none).\n");
        sb.Append("    $next = @{\n");
        sb.Append("        '' = [ordered]@{");
        sb.Append(string.Join("; ", CompletionCommand.TopWords.Select(w => $"{Quote(w.Word)} = {Tip(w.Short)}")));
        sb.Append("}\n");
        foreach (var group in Runner.Commands.Where(c => c.Name.Contains(' ', StringComparison.Ordinal)).GroupBy(c => c.Name.Split(' ')[0]))
        {
            sb.Append($"        {Quote(group.Key)} = [ordered]@{{");
            sb.Append(string.Join("; ", group.Select(c => $"{Quote(c.Name.Split(' ')[1])} = {Tip(c.Short)}")));
            sb.Append("}\n");
        }
        sb.Append("    }\n");
        sb.Append("    # Each command's flags, and the global ones under ''.\n");
        sb.Append("    $flags = @{\n");
        sb.Append($"        '' = {Flags(CtlContext.GlobalFlags, Tip)}\n");
        foreach (var c in Runner.Commands.Where(c => c.Flags.Count > 0))
        {
            sb.Append($"        {Quote(c.Name)} = {Flags(c.Flags, Tip)}\n");
        }
        sb.Append("    }\n");
        sb.Append($"    $valued = @({string.Join(", ", CompletionCommand.ValuedWords.Select(Quote))})\n");
        sb.Append("    $values = @{\n");
        foreach (var (flag, values) in CompletionCommand.FlagValues)
        {
            foreach (var word in CompletionCommand.AllFlags.Where(f => f.Name == flag).SelectMany(CompletionCommand.FlagWords))
            {
                sb.Append($"        {Quote(word)} = @({string.Join(", ", values.Split(' ').Select(Quote))})\n");
            }
        }
        sb.Append("    }\n");
        sb.Append($"    $groups = @({string.Join(", ", Runner.Groups.Select(g => Quote(g.Name)))})\n");
        sb.Append(
            """

                # The words before the cursor; the one being typed (if any) is $WordToComplete.
                $tokens = @($CommandAst.CommandElements | Where-Object { $_.Extent.EndOffset -le $CursorPosition } | ForEach-Object { $_.Extent.Text })
                if ($WordToComplete -ne '' -and $tokens.Count -gt 1) { $tokens = $tokens[0..($tokens.Count - 2)] }
                $words = @()
                $i = 1
                while ($i -lt $tokens.Count) {
                    $t = $tokens[$i]
                    $i++
                    if ($t -eq '--') { return }
                    elseif ($t -like '-*=*') { }
                    elseif ($t.StartsWith('-')) { if ($valued -contains $t) { $i++ } }
                    else { $words += $t }
                }
                $prev = if ($tokens.Count -gt 1) { $tokens[-1] } else { '' }

                function Offer($candidates, $prefix, $cur, $kind) {
                    foreach ($c in $candidates.Keys) {
                        if ($c.StartsWith($cur, [System.StringComparison]::Ordinal)) {
                            $tip = $candidates[$c]
                            if ($tip -eq '') { $tip = $c }
                            [System.Management.Automation.CompletionResult]::new($prefix + $c, $c, $kind, $tip)
                        }
                    }
                }

                # A flag's value: after "--flag " or in "--flag=".
                $cur = $WordToComplete
                $flag = $null
                $prefix = ''
                if ($cur -like '-*=*') {
                    $flag = $cur.Substring(0, $cur.IndexOf('='))
                    $prefix = $flag + '='
                    $cur = $cur.Substring($cur.IndexOf('=') + 1)
                } elseif ($valued -contains $prev) {
                    $flag = $prev
                }
                if ($flag) {
                    if ($values.ContainsKey($flag)) {
                        $choices = [ordered]@{}
                        foreach ($v in $values[$flag]) { $choices[$v] = '' }
                        Offer $choices $prefix $cur 'ParameterValue'
                    }
                    return
                }

                $path = if ($words.Count -gt 0) { $words[0] } else { '' }
                if ($words.Count -ge 2 -and $groups -contains $words[0]) { $path = $words[0] + ' ' + $words[1] }
                if ($cur.StartsWith('-')) {
                    $all = [ordered]@{}
                    foreach ($key in @($path, '')) {
                        if ($flags.ContainsKey($key)) { foreach ($f in $flags[$key].Keys) { $all[$f] = $flags[$key][$f] } }
                    }
                    Offer $all '' $cur 'ParameterName'
                } elseif ($words.Count -eq 0) {
                    Offer $next[''] '' $cur 'Command'
                } elseif ($words.Count -eq 1 -and $next.ContainsKey($words[0])) {
                    Offer $next[$words[0]] '' $cur 'Command'
                }
            }

            """);
        return sb.ToString();
    }

    /// <summary>A hashtable of flag words to their help lines.</summary>
    private static string Flags(IEnumerable<Flag> flags, Func<string, string> tip) =>
        "[ordered]@{" + string.Join("; ", flags.Select(f => f.Name == "help" ? f with { Usage = "help for ketchctl or the command" } : f)
            .SelectMany(f => CompletionCommand.FlagWords(f).Select(w => $"{Quote(w)} = {tip(f.Usage)}"))) + "}";

    /// <summary>A PowerShell single-quoted string: a quote is doubled.</summary>
    private static string Quote(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
}
