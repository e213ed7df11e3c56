namespace Ketch.Server.Http.HPack;

/// <summary>The three literal representations of RFC 7541 §6.2.</summary>
internal enum HPackLiteralKind
{
    /// <summary>§6.2.1: the field is added to the dynamic table.</summary>
    IncrementalIndexing,

    /// <summary>§6.2.2: the dynamic table is left alone.</summary>
    WithoutIndexing,

    /// <summary>§6.2.3: as without indexing, and intermediaries must keep it so (§7.1.3).</summary>
    NeverIndexed,
}
