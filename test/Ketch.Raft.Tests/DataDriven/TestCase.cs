namespace Ketch.Raft.Tests.DataDriven;

/// <summary>One block of a script: the command, its extra input lines and the expected output.</summary>
internal sealed class TestCase
{
    public required string File { get; init; }

    /// <summary>1-based line of the command in the file.</summary>
    public required int Line { get; init; }

    /// <summary>The command line as written.</summary>
    public required string CmdLine { get; init; }

    public required string Cmd { get; init; }

    public required IReadOnlyList<CmdArg> Args { get; init; }

    /// <summary>Lines between the command and the <c>----</c> separator, joined with '\n'.</summary>
    public required string Input { get; init; }

    /// <summary>The expected output, each line ending in '\n' (empty for no output).</summary>
    public required string Expected { get; init; }

    public string Pos => $"{File}:{Line}";

    public bool Has(string key) => Args.Any(a => a.Key == key);

    public CmdArg? Find(string key) => Args.FirstOrDefault(a => a.Key == key);

    /// <summary>The single value of <c>key=value</c>, or <paramref name="fallback"/> when absent.</summary>
    public string Value(string key, string fallback)
    {
        var a = Find(key);
        if (a is null)
        {
            return fallback;
        }
        if (a.Values.Count != 1)
        {
            throw new FormatException($"{Pos}: argument {key} needs exactly one value");
        }
        return a.Values[0];
    }

    public ulong UInt64(string key, ulong fallback) => ulong.Parse(Value(key, fallback.ToString()));

    public long Int64(string key, long fallback) => long.Parse(Value(key, fallback.ToString()));

    public int Int32(string key, int fallback) => int.Parse(Value(key, fallback.ToString()));

    public bool Bool(string key) => Find(key) is { } a && (a.Values.Count == 0 || bool.Parse(a.Values[0]));

    /// <summary>The values of <c>key=(a,b,c)</c> as ids; empty when absent.</summary>
    public IReadOnlyList<ulong> Ids(string key) =>
        Find(key) is { } a ? a.Values.Select(ulong.Parse).ToArray() : [];

    /// <summary>Bare arguments (words without <c>=</c>), in order.</summary>
    public IReadOnlyList<string> Positional => Args.Where(a => !a.HasValue).Select(a => a.Key).ToArray();
}
