namespace Ketch;

/// <summary>How a flag's value is read.</summary>
internal enum FlagKind
{
    Text,
    UrlList,
    Int,
    Long,
    Bool,

    /// <summary>Go's duration syntax (<see cref="Ketch.Server.GoDuration"/>); empty where the default is empty.</summary>
    Duration,
}

/// <summary>One of etcd's flags: its name (without dashes), kind, default and help line.
/// The environment variable is <c>ETCD_</c> + the name upper-cased with '-' as '_'.
/// <paramref name="NoEffect"/>, when set, says why the flag is accepted but changes nothing in
/// ketch (a bbolt tuning knob, say); setting it to other than its default logs that reason.</summary>
internal sealed record FlagSpec(string Name, FlagKind Kind, string Default, string Help, string? NoEffect = null)
{
    public string EnvironmentVariable => "ETCD_" + Name.ToUpperInvariant().Replace('-', '_');
}
