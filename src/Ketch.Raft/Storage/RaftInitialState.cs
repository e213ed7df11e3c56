namespace Ketch.Raft.Storage;

/// <summary>What a member restarts from: its durable <see cref="HardState"/> and the
/// configuration as of its latest snapshot or applied configuration change.</summary>
/// <param name="HardState">The last persisted hard state.</param>
/// <param name="ConfState">The persisted configuration.</param>
public readonly record struct RaftInitialState(HardState HardState, ConfState ConfState);
