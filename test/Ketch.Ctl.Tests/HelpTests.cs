using System.Text.RegularExpressions;
using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary>
/// ketchctl's help pages against etcdctl 3.4's (no server needed): the same sections in the same order, the same
/// usage lines, command names, flag names, shorthands and defaults, and the same tab layout, with ketchctl for
/// etcdctl. Prose (descriptions, flag usages) is ours and not compared; neither are the version numbers.
/// </summary>
public sealed class HelpTests
{
    /// <summary>Lines (without their prose) of one tool's page that the other's lacks, by page (null: the root's):
    /// none of etcdctl 3.4.23's; etcdctl 3.5's auth status and flags that ketchctl has and etcdctl 3.4 has not.</summary>
    private static readonly Dictionary<string, string[]> s_onlyEtcdctl = [];

    private static readonly Dictionary<string, string[]> s_onlyKetchctl = new()
    {
        [""] = ["auth status"],
        ["auth"] = ["status"],
        ["get"] = ["--count-only[=false]"],
        ["watch"] = ["--progress-notify[=false]"],
    };

    [Fact]
    public async Task Root_help_matches_etcdctls_layout()
    {
        var etcdctl = await EtcdctlAsync("--help");
        Assert.Equal(0, etcdctl.ExitCode);
        foreach (string[] args in (string[][])[["--help"], ["-h"], ["help"], []])
        {
            var ketchctl = await KetchctlAsync(args);
            Assert.Equal(0, ketchctl.ExitCode);
            Assert.Equal("", ketchctl.Stderr);
            AssertSameShape(etcdctl.Stdout, ketchctl.Stdout, null);
        }
        var page = (await KetchctlAsync("--help")).Stdout;
        Assert.StartsWith("NAME:\n\tketchctl - ", page, StringComparison.Ordinal);
        Assert.Contains("\n\tmember add\t\t", page, StringComparison.Ordinal);
        Assert.Contains("\n  -w, --write-out=\"simple\"\t\t\t", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Group_help_matches_etcdctls_layout()
    {
        foreach (var group in new[] { "member", "lease", "endpoint", "user", "role", "snapshot", "check", "alarm", "auth", "completion" })
        {
            var etcdctl = await EtcdctlAsync(group);
            Assert.Equal(0, etcdctl.ExitCode);
            // Alone, with --help, after help, or with a word that is none of its commands: the group's page.
            foreach (string[] args in (string[][])[[group], [group, "--help"], ["help", group], [group, "nosuch"]])
            {
                var ketchctl = await KetchctlAsync(args);
                Assert.True(ketchctl.ExitCode == 0, $"{string.Join(' ', args)}: {ketchctl.Stderr}");
                Assert.Equal("", ketchctl.Stderr);
                AssertSameShape(etcdctl.Stdout, ketchctl.Stdout, group);
            }
        }
    }

    [Fact]
    public async Task Command_help_matches_etcdctls_layout()
    {
        string[] commands =
        [
            "put", "get", "watch", "lease grant", "del", "txn", "lease keep-alive", "member add", "endpoint hashkv", "endpoint health",
            "user add", "role grant-permission", "snapshot restore", "check perf", "lock", "elect", "move-leader", "help",
            "completion zsh", "completion bash", "completion fish", "completion powershell", "make-mirror", "migrate", "defrag",
        ];
        foreach (var command in commands)
        {
            var words = command.Split(' ');
            var etcdctl = await EtcdctlAsync([.. words, "--help"]);
            Assert.Equal(0, etcdctl.ExitCode);
            foreach (string[] args in (string[][])[[.. words, "--help"], [.. words, "-h"], ["help", .. words]])
            {
                var ketchctl = await KetchctlAsync(args);
                Assert.True(ketchctl.ExitCode == 0, $"{string.Join(' ', args)}: {ketchctl.Stderr}");
                AssertSameShape(etcdctl.Stdout, ketchctl.Stdout, command);
            }
        }
    }

    [Fact]
    public async Task Help_on_an_unknown_topic_and_flag_errors_match_etcdctl()
    {
        // An unknown topic: said on stderr, the root's page on stdout, exit 0.
        var a = await EtcdctlAsync("help", "nosuch");
        var b = await KetchctlAsync("help", "nosuch");
        Assert.Equal(a.Stderr, b.Stderr);
        Assert.Equal(a.ExitCode, b.ExitCode);
        AssertSameShape(a.Stdout, b.Stdout, null);
        // A bad flag: the command's page, then the error twice (cobra's, then etcdctl's), exit 1.
        foreach (string[] args in (string[][])[["get", "k", "--bogus"], ["put", "k", "v", "--lease"], ["watch", "k", "--rev", "x"], ["--dial-timeout=x", "get", "k"]])
        {
            a = await EtcdctlAsync(args);
            b = await KetchctlAsync(args);
            Assert.Equal(a.Stderr, b.Stderr);
            Assert.Equal(a.ExitCode, b.ExitCode);
            AssertSameShape(a.Stdout, b.Stdout, args[0].StartsWith('-') ? args[1] : args[0]);
        }
        a = await EtcdctlAsync("nosuch");
        b = await KetchctlAsync("nosuch");
        Assert.Equal(a.Stderr.Replace("etcdctl", "ketchctl", StringComparison.Ordinal), b.Stderr);
        Assert.Equal(a.ExitCode, b.ExitCode);
    }

    [Fact]
    public void Every_command_and_flag_has_a_description()
    {
        foreach (var c in Runner.Commands)
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Short), $"{c.Name} has no Short");
            foreach (var f in c.Flags)
            {
                Assert.False(string.IsNullOrWhiteSpace(f.Usage), $"{c.Name} --{f.Name} has no Usage");
            }
        }
        foreach (var f in CtlContext.GlobalFlags.Where(f => f.Name != "help"))
        {
            Assert.False(string.IsNullOrWhiteSpace(f.Usage), $"global --{f.Name} has no Usage");
        }
        foreach (var g in Runner.Groups)
        {
            Assert.False(string.IsNullOrWhiteSpace(g.Short), $"{g.Name} has no Short");
            Assert.Contains(Runner.Commands, c => c.Name.StartsWith(g.Name + " ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Tabify_pads_columns_as_gos_tabwriter()
    {
        // Column 1's block is the first two lines: widest cell 11 + 1, rounded up to 16; "a" needs 2 tabs,
        // "longer-name" 1. The third line has no cell in column 1: its own block (1 + 1 -> 8, one tab).
        var text = "\ta\tx\n\tlonger-name\ty\nhead:\n\tb\tz\n";
        Assert.Equal("\ta\t\tx\n\tlonger-name\ty\nhead:\n\tb\tz\n", Help.Tabify(text));
        // Exactly 7 wide: 7 + 1 = 8, one tab; 8 wide: 9 -> 16, one tab for it and two for a short cell.
        Assert.Equal("1234567\tx\n", Help.Tabify("1234567\tx\n"));
        Assert.Equal("12345678\tx\nab\t\ty\n", Help.Tabify("12345678\tx\nab\ty\n"));
    }

    /// <summary>Pages have the same sections in order; within each, the same lines up to their last tab (names,
    /// flags, defaults and padding), except the known differences; NAME, USAGE and DESCRIPTION compared as
    /// the facts they hold (the name, the usage line, whether there is one).</summary>
    private static void AssertSameShape(string etcdctl, string ketchctl, string? command)
    {
        // The program's name, not the "/etcdctl-check-perf/" default key prefix ketchctl keeps.
        var expected = Sections(Regex.Replace(etcdctl, "etcdctl(?![-\\w])", "ketchctl"));
        var actual = Sections(ketchctl);
        var context = $"for `{command ?? "(root)"}`:\n--- etcdctl\n{etcdctl}\n--- ketchctl\n{ketchctl}";
        Assert.True(expected.Select(s => s.Header).SequenceEqual(actual.Select(s => s.Header)),
            $"sections differ {context}");
        for (var i = 0; i < expected.Count; i++)
        {
            var (header, lines) = expected[i];
            var got = actual[i].Lines;
            switch (header)
            {
                case "VERSION:" or "API VERSION:" or "DESCRIPTION:":
                    continue;
                case "NAME:":
                    Assert.Equal(lines[0].Split(" - ")[0], got[0].Split(" - ")[0]);
                    continue;
                case "USAGE:":
                    Assert.Equal(lines, got);
                    continue;
            }
            var want = lines.Select(Shape).Where(l => !Known(l, command, onlyEtcdctl: true)).ToList();
            var have = got.Select(Shape).Where(l => !Known(l, command, onlyEtcdctl: false)).ToList();
            if (want.Count < lines.Count || have.Count < got.Count)
            {
                // A line left out may have set its column's width: compare the cells without their padding.
                want = [.. want.Select(l => Regex.Replace(l, "\t+", "\t"))];
                have = [.. have.Select(l => Regex.Replace(l, "\t+", "\t"))];
            }
            Assert.True(want.SequenceEqual(have), $"{header} differs {context}\n--- want\n{string.Join('\n', want)}\n--- have\n{string.Join('\n', have)}");
        }
    }

    private static bool Known(string line, string? command, bool onlyEtcdctl) =>
        (onlyEtcdctl ? s_onlyEtcdctl : s_onlyKetchctl).TryGetValue(command ?? "", out var cells) && cells.Contains(line.Trim('\t', ' '));

    /// <summary>A line without the prose after its last tab (the padding tabs stay: they are the layout).</summary>
    private static string Shape(string line)
    {
        var tab = line.LastIndexOf('\t');
        return tab < 0 ? line : line[..(tab + 1)];
    }

    private static List<(string Header, List<string> Lines)> Sections(string page)
    {
        var sections = new List<(string Header, List<string> Lines)>();
        foreach (var line in page.Split('\n'))
        {
            if (line.Length > 0 && !line.StartsWith(' ') && !line.StartsWith('\t') && line.EndsWith(':'))
            {
                sections.Add((line, []));
            }
            else if (line.Length > 0 && sections.Count > 0)
            {
                sections[^1].Lines.Add(line);
            }
        }
        return sections;
    }

    private static Task<Run> EtcdctlAsync(params string[] args) => Clis.EtcdctlAsync(args);

    private static Task<Run> KetchctlAsync(params string[] args) => Clis.KetchctlAsync(args);
}
