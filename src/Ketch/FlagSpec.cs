namespace Ketch;

/// <summary>How a flag's value is read.</summary>
internal enum FlagKind
{
    Text,
    UrlList,
    Int,
    Long,
    Bool,
}

/// <summary>One of etcd's flags: its name (without dashes), kind, default and help line.
/// The environment variable is <c>ETCD_</c> + the name upper-cased with '-' as '_'.</summary>
internal sealed record FlagSpec(string Name, FlagKind Kind, string Default, string Help)
{
    public string EnvironmentVariable => "ETCD_" + Name.ToUpperInvariant().Replace('-', '_');
}
