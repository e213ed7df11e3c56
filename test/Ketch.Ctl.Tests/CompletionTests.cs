using System.Diagnostics;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary><c>completion bash|zsh</c>: the bash script is loaded into a real bash and asked for completions the
/// way bash's programmable completion does (COMP_WORDS, COMP_CWORD, then the function).</summary>
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
