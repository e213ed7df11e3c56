using System.Diagnostics;
using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary><c>completion bash|zsh|fish|powershell</c>: the bash script is loaded into a real bash and asked for
/// completions the way bash's programmable completion does (COMP_LINE, COMP_POINT, then the function); the fish
/// one into fish (<c>complete -C</c>), the PowerShell one into pwsh (<c>TabExpansion2</c>). fish comes from
/// Debian's <c>fish</c> package, pwsh from the <c>PowerShell</c> dotnet tool (.ci/run installs both).</summary>
public sealed class CompletionTests : IDisposable
{
    private readonly string _script = Path.Combine(Path.GetTempPath(), $"ketchctl-completion-{Guid.NewGuid():N}.bash");

    public CompletionTests()
    {
        var o = new StringWriter { NewLine = "\n" };
        var rc = Runner.RunAsync(["completion", "bash"], o, new StringWriter(), new StringReader(""), new Dictionary<string, string>(), default)
            .GetAwaiter().GetResult();
        Assert.Equal(0, rc);
        File.WriteAllText(_script, o.ToString());
    }

    public void Dispose() => File.Delete(_script);

    /// <summary>What bash offers for the command line <c>ketchctl words...</c> with the cursor at its end.</summary>
    private async Task<string[]> CompleteAsync(params string[] words)
    {
        var line = "ketchctl " + string.Join(" ", words);
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"source '{_script}' && COMP_LINE=\"$LINE\" && COMP_POINT=${{#COMP_LINE}} && _ketchctl && printf '%s\\n' \"${{COMPREPLY[@]}}\"");
        psi.Environment["LINE"] = line;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(p.ExitCode == 0, await stderr);
        Assert.Equal("", await stderr);
        return [.. (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Bash_completes_commands_subcommands_flags_and_values()
    {
        var top = await CompleteAsync("");
        Assert.Subset(top.ToHashSet(), new HashSet<string> { "get", "put", "del", "watch", "snapshot", "check", "lease", "member", "completion" });
        Assert.Equal(["snapshot"], await CompleteAsync("sn"));
        Assert.Equal(["restore", "save", "status"], await CompleteAsync("snapshot", ""));
        Assert.Equal(["datascale", "perf"], await CompleteAsync("check", ""));
        Assert.Equal(["grant"], await CompleteAsync("--endpoints", "127.0.0.1:1", "lease", "g"));
        Assert.Equal(["grant"], await CompleteAsync("--endpoints=127.0.0.1:1", "-w", "json", "lease", "g"));
        var restore = await CompleteAsync("snapshot", "restore", "--");
        Assert.Subset(restore.ToHashSet(), new HashSet<string> { "--data-dir", "--name", "--initial-cluster", "--skip-hash-check", "--endpoints", "--write-out" });
        Assert.DoesNotContain("--prefix", restore);
        Assert.Equal(["--prefix", "--prev-kv"], await CompleteAsync("watch", "--pre"));
        Assert.Equal(["fields", "json", "protobuf", "simple", "table"], await CompleteAsync("-w", ""));
        Assert.Equal(["json"], await CompleteAsync("get", "--write-out=j"));
        Assert.Equal(["l", "m", "s", "xl"], await CompleteAsync("check", "perf", "--load", ""));
        Assert.Equal(["DESCEND"], await CompleteAsync("get", "k", "--order", "D"));
        // A key or a file: nothing from us (bash falls back to file names).
        Assert.Empty(await CompleteAsync("get", ""));
        // The newer commands and shells, from the same command table.
        Assert.Equal(["bash", "fish", "powershell", "zsh"], await CompleteAsync("completion", ""));
        Assert.Equal(["make-mirror", "member", "migrate", "move-leader"], await CompleteAsync("m"));
        Assert.Equal(["--dest-cacert", "--dest-cert", "--dest-insecure-transport", "--dest-key", "--dest-prefix"], await CompleteAsync("make-mirror", "--dest-"));
        Assert.Equal(["--data-dir"], await CompleteAsync("defrag", "--da"));
    }

    /// <summary>The script of <c>completion shell [flags]</c>.</summary>
    private static async Task<string> ScriptAsync(params string[] args)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        Assert.Equal(0, await Runner.RunAsync(["completion", .. args], o, e, new StringReader(""), new Dictionary<string, string>(), default));
        Assert.Equal("", e.ToString());
        return o.ToString();
    }

    /// <summary>Runs <paramref name="exe"/> with <paramref name="args"/>; its stdout lines (fails on an error or after 60 s).</summary>
    private static async Task<string[]> RunAsync(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(p.ExitCode == 0, await stderr);
        Assert.Equal("", await stderr);
        return (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task Fish_completes_commands_subcommands_flags_and_values()
    {
        var fish = Tools.Require("fish", "fish");
        var script = Path.ChangeExtension(_script, ".fish");
        File.WriteAllText(script, await ScriptAsync("fish"));
        try
        {
            // Each line: what fish offers for "ketchctl <line>", as "candidate<TAB>description", sorted, joined by '|'.
            string[] lines =
            [
                "lease g", "--endpoints 127.0.0.1:1 -w json lease ", "sn", "completion ", "-w ", "get --write-out=j",
                "get k --order D", "make-mirror --dest-", "watch --pre", "snapshot restore --da",
            ];
            var commands = string.Join("; ", lines.Select(l => $"complete -C 'ketchctl {l}' | sort | string join '|'"));
            // "string join" fails (exit 1) when it had only one item to join: the script's status is true's.
            var got = await RunAsync(fish, "--no-config", "-c", $"source '{script}'; {commands}; true");
            string[] Candidates(string line) => [.. line.Split('|').Select(c => c.Split('\t')[0])];
            Assert.Equal(lines.Length, got.Length);
            Assert.Equal(["grant"], Candidates(got[0]));
            Assert.Equal(["grant", "keep-alive", "list", "revoke", "timetolive"], Candidates(got[1]));
            Assert.Equal("snapshot\tCommands on member snapshots", got[2]);
            Assert.Equal(["bash", "fish", "powershell", "zsh"], Candidates(got[3]));
            Assert.Equal(["fields", "json", "protobuf", "simple", "table"], Candidates(got[4]));
            Assert.Equal(["--write-out=json"], Candidates(got[5]));
            Assert.Equal(["DESCEND"], Candidates(got[6]));
            Assert.Equal(["--dest-cacert", "--dest-cert", "--dest-insecure-transport", "--dest-key", "--dest-prefix"], Candidates(got[7]));
            Assert.Equal(["--prefix", "--prev-kv"], Candidates(got[8]));
            Assert.Equal(["--data-dir"], Candidates(got[9]));
            // Without descriptions: the candidates alone.
            File.WriteAllText(script, await ScriptAsync("fish", "--no-descriptions"));
            Assert.Equal(["snapshot"], await RunAsync(fish, "--no-config", "-c", $"source '{script}'; complete -C 'ketchctl sn'"));
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public async Task PowerShell_completes_commands_subcommands_flags_and_values()
    {
        var pwsh = Pwsh();
        var script = Path.ChangeExtension(_script, ".ps1");
        File.WriteAllText(script, await ScriptAsync("powershell"));
        try
        {
            string[] lines =
            [
                "lease g", "--endpoints 127.0.0.1:1 -w json lease ", "sn", "completion ", "-w ", "get --write-out=j",
                "get k --order D", "make-mirror --dest-", "watch --pre", "snapshot restore --da",
            ];
            var probe =
                $". '{script}'\n" +
                "foreach ($line in @(" + string.Join(", ", lines.Select(l => $"'ketchctl {l}'")) + ")) {\n" +
                "  $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length\n" +
                "  Write-Output ((@($r.CompletionMatches | ForEach-Object { $_.CompletionText }) | Sort-Object -CaseSensitive) -join '|')\n" +
                "}\n" +
                "$r = TabExpansion2 -inputScript 'ketchctl sn' -cursorColumn 11\n" +
                "Write-Output ('tip:' + $r.CompletionMatches[0].ToolTip)\n";
            var got = await RunAsync(pwsh, "-NoProfile", "-NonInteractive", "-Command", probe);
            Assert.Equal(
            [
                "grant", "grant|keep-alive|list|revoke|timetolive", "snapshot", "bash|fish|powershell|zsh", "fields|json|protobuf|simple|table",
                "--write-out=json", "DESCEND", "--dest-cacert|--dest-cert|--dest-insecure-transport|--dest-key|--dest-prefix", "--prefix|--prev-kv",
                "--data-dir", "tip:Commands on member snapshots",
            ], got);
        }
        finally
        {
            File.Delete(script);
        }
    }

    /// <summary>pwsh on PATH or where <c>dotnet tool install --global PowerShell</c> puts it.</summary>
    private static string Pwsh()
    {
        var home = Environment.GetEnvironmentVariable("HOME") ?? "/root";
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append(Path.Combine(home, ".dotnet", "tools")))
        {
            var p = Path.Combine(dir, "pwsh");
            if (dir.Length > 0 && File.Exists(p))
            {
                return p;
            }
        }
        throw new InvalidOperationException("'pwsh' was not found: install it with 'dotnet tool install --global PowerShell --version 7.6.9' (.ci/run does this).");
    }

    [Fact]
    public async Task Every_shells_script_names_ketchctls_commands()
    {
        foreach (var shell in new[] { "bash", "zsh", "fish", "powershell" })
        {
            var script = await ScriptAsync(shell);
            foreach (var word in new[] { "make-mirror", "migrate", "snapshot", "restore", "--data-dir", "--dest-prefix", "--write-out" })
            {
                Assert.Contains(word, script, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Zsh_script_wraps_the_bash_one()
    {
        var o = new StringWriter { NewLine = "\n" };
        Assert.Equal(0, await Runner.RunAsync(["completion", "zsh"], o, new StringWriter(), new StringReader(""), new Dictionary<string, string>(), default));
        var zsh = o.ToString();
        Assert.StartsWith("#compdef ketchctl\n", zsh, StringComparison.Ordinal);
        Assert.Contains("bashcompinit", zsh, StringComparison.Ordinal);
        Assert.EndsWith(File.ReadAllText(_script), zsh, StringComparison.Ordinal);
    }
}
