using Ketch.Raft.Tests.DataDriven;
using Xunit;

namespace Ketch.Raft.Tests.Interaction;

/// <summary>
/// Runs every script in testdata/ against a fresh <see cref="InteractionEnv"/>. Each script is
/// a protocol trace; set KETCH_REWRITE=1 to regenerate the expected outputs in the source tree
/// and review the diff.
/// </summary>
public sealed class InteractionTests
{
    public static TheoryData<string> Scripts()
    {
        var data = new TheoryData<string>();
        foreach (var name in ScriptRunner.List("*.txt"))
        {
            data.Add(name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script(string name)
    {
        var env = new InteractionEnv();
        ScriptRunner.Run(name, env.Handle);
    }
}
