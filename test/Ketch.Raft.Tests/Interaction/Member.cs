using Ketch.Raft.Storage;

namespace Ketch.Raft.Tests.Interaction;

/// <summary>One member of the simulated group: its Raft node, its "disk" and the index its
/// application state machine has applied.</summary>
internal sealed class Member(ulong id, ulong group, RaftConfig config, MemoryStorage storage)
{
    public ulong Id { get; } = id;

    /// <summary>The id of the first member created with it: members of one group share a log.</summary>
    public ulong Group { get; } = group;

    /// <summary>The configuration it was created with (reused on restart).</summary>
    public RaftConfig Config { get; } = config;

    public MemoryStorage Storage { get; } = storage;

    public RawNode Node { get; set; } = new(config);

    /// <summary>The last index applied to the state machine (entries or a snapshot).</summary>
    public ulong Applied { get; set; } = config.Applied;

    /// <summary>The configuration as of <see cref="Applied"/>, as the application keeps it: from
    /// the storage at start, then from each snapshot and applied conf change. Snapshots the
    /// application takes record this one.</summary>
    public ConfState ConfState { get; set; } = storage.InitialState().ConfState;

    /// <summary>The index of the entry (or snapshot) that last set <see cref="ConfState"/>.</summary>
    public ulong ConfIndex { get; set; }

    internal Raft Raft => Node.Raft;
}
