namespace Ketch.Raft;

/// <summary>What an <see cref="Entry"/>'s data holds.</summary>
public enum EntryType : byte
{
    /// <summary>Application data, opaque to Raft.</summary>
    Normal = 0,

    /// <summary>An encoded single-step (v1) configuration change.</summary>
    ConfChange = 1,

    /// <summary>An encoded joint-consensus (v2) configuration change.</summary>
    ConfChangeV2 = 2,
}
