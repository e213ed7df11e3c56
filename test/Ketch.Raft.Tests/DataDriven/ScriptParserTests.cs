using Xunit;

namespace Ketch.Raft.Tests.DataDriven;

public sealed class ScriptParserTests
{
    private const string Script = """
        # comment
        cmd a b=1 c=(1, 2,3)
        extra input
        ----
        out 1
        out 2

        # the output below has a blank line
        other
        ----
        ----
        x

        y
        ----
        ----

        empty
        ----

        """;

    [Fact]
    public void ParsesCommandsArgumentsInputAndOutputs()
    {
        var cases = ScriptParser.Parse("t.txt", Script).Cases.ToArray();
        Assert.Equal(3, cases.Length);

        var first = cases[0];
        Assert.Equal(2, first.Line);
        Assert.Equal("cmd", first.Cmd);
        Assert.Equal(["a", "b=1", "c=(1, 2, 3)"], first.Args.Select(a => a.ToString()));
        Assert.Equal([1UL, 2, 3], first.Ids("c"));
        Assert.Equal(1, first.Int32("b", 0));
        Assert.Equal(["a"], first.Positional);
        Assert.Equal("extra input", first.Input);
        Assert.Equal("out 1\nout 2\n", first.Expected);

        Assert.Equal("other", cases[1].Cmd);
        Assert.Equal("x\n\ny\n", cases[1].Expected);
        Assert.Equal("", cases[2].Expected);
    }

    [Fact]
    public void RewritingWithTheSameOutputsReproducesTheFile()
    {
        var script = ScriptParser.Parse("t.txt", Script);
        var text = string.Concat(script.Chunks.Select(c => c switch
        {
            ScriptParser.Verbatim v => v.Text,
            ScriptParser.Block b => b.Header + ScriptParser.FormatOutput(b.Case.Expected) + "\n",
            _ => throw new InvalidOperationException(),
        }));
        Assert.Equal(Script.TrimEnd('\n'), text.TrimEnd('\n'));
    }

    [Fact]
    public void ReportsAMissingSeparatorWithItsLine()
    {
        var e = Assert.Throws<FormatException>(() => ScriptParser.Parse("t.txt", "# x\ncmd\nno separator\n"));
        Assert.Contains("t.txt:2", e.Message);
    }
}
