using System.Text;
using Xunit.Sdk;

namespace Ketch.Raft.Tests.DataDriven;

/// <summary>
/// Runs a datadriven script against a handler that turns each command into output text and
/// compares it with the expected output. With the environment variable
/// <c>KETCH_REWRITE=1</c> it instead writes the actual outputs back into the script in the
/// source tree, so that changes show up as a diff to review.
/// </summary>
internal static class ScriptRunner
{
    public const string RewriteVariable = "KETCH_REWRITE";

    /// <summary>Where the scripts live in the source tree, relative to the repository root.</summary>
    public const string SourceTestData = "test/Ketch.Raft.Tests/testdata";

    public static bool Rewriting => Environment.GetEnvironmentVariable(RewriteVariable) is "1" or "true";

    /// <summary>The directory of the scripts copied next to the test binary.</summary>
    public static string OutputTestData => Path.Combine(AppContext.BaseDirectory, "testdata");

    /// <summary>The names (relative to testdata/) of the scripts matching <paramref name="pattern"/>.</summary>
    public static IEnumerable<string> List(string pattern) =>
        Directory.EnumerateFiles(OutputTestData, pattern, SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(OutputTestData, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);

    /// <summary>Runs the script <paramref name="name"/> (relative to testdata/), calling
    /// <paramref name="handler"/> for each command in order.</summary>
    public static void Run(string name, Func<TestCase, string> handler)
    {
        // Rewriting reads the source copy, so that edits made since the last build survive.
        var path = Rewriting ? Path.Combine(FindRepoRoot(), SourceTestData, name) : Path.Combine(OutputTestData, name);
        var script = ScriptParser.Parse(name, File.ReadAllText(path));
        var rewritten = new StringBuilder();
        foreach (var chunk in script.Chunks)
        {
            if (chunk is ScriptParser.Verbatim v)
            {
                rewritten.Append(v.Text);
                continue;
            }
            var block = (ScriptParser.Block)chunk;
            var tc = block.Case;
            string actual;
            try
            {
                actual = Normalize(handler(tc));
            }
            catch (Exception e) when (e is not XunitException)
            {
                throw new InvalidOperationException($"{tc.Pos}: {tc.CmdLine}: {e.GetType().Name}: {e.Message}", e);
            }
            if (Rewriting)
            {
                rewritten.Append(block.Header).Append(ScriptParser.FormatOutput(actual)).Append('\n');
            }
            else if (actual != tc.Expected)
            {
                throw new XunitException(
                    $"{tc.Pos}: output of '{tc.CmdLine}' differs (rerun with {RewriteVariable}=1 to rewrite)\n"
                    + $"--- expected\n{tc.Expected}--- actual\n{actual}--- first difference at line {FirstDiffLine(tc.Expected, actual)}");
            }
        }
        if (Rewriting)
        {
            var text = rewritten.ToString();
            while (text.EndsWith("\n\n", StringComparison.Ordinal))
            {
                text = text[..^1];
            }
            File.WriteAllText(Path.Combine(FindRepoRoot(), SourceTestData, name), text);
        }
    }

    private static string Normalize(string output) =>
        output.Length == 0 || output.EndsWith('\n') ? output : output + "\n";

    private static int FirstDiffLine(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var i = 0;
        while (i < e.Length && i < a.Length && e[i] == a[i])
        {
            i++;
        }
        return i + 1;
    }

    /// <summary>Walks up from the test binary to the directory holding Ketch.slnx.</summary>
    public static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ketch.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Ketch.slnx above {AppContext.BaseDirectory}: cannot rewrite scripts");
    }
}
