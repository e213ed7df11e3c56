namespace Ketch.Raft.Tests.DataDriven;

/// <summary>
/// One argument of a script command: a bare word (<c>3</c>), a key with a value
/// (<c>index=5</c>) or a key with a list (<c>voters=(1,2,3)</c>).
/// </summary>
internal sealed record CmdArg(string Key, IReadOnlyList<string> Values)
{
    public bool HasValue => Values.Count > 0;

    public override string ToString() => Values.Count switch
    {
        0 => Key,
        1 => $"{Key}={Values[0]}",
        _ => $"{Key}=({string.Join(", ", Values)})",
    };
}
