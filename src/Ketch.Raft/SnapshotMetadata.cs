namespace Ketch.Raft;

/// <summary>Where a snapshot stands in the log and the membership as of that point.</summary>
/// <param name="Index">The last log index the snapshot covers.</param>
/// <param name="Term">The term of the entry at <paramref name="Index"/>.</param>
/// <param name="ConfState">The configuration in force at <paramref name="Index"/>.</param>
public sealed record SnapshotMetadata(ulong Index, ulong Term, ConfState ConfState)
{
    /// <summary>The metadata of "no snapshot".</summary>
    public static SnapshotMetadata Empty { get; } = new(0, 0, ConfState.Empty);
}
