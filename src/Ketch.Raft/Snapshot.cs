namespace Ketch.Raft;

/// <summary>
/// A point-in-time image of the application state machine that replaces a log prefix
/// (Raft §7). <see cref="Data"/> is opaque to Raft.
/// </summary>
/// <param name="Data">The application's serialized state.</param>
/// <param name="Metadata">What log prefix and configuration the image stands for.</param>
public sealed record Snapshot(ReadOnlyMemory<byte> Data, SnapshotMetadata Metadata)
{
    /// <summary>The absence of a snapshot.</summary>
    public static Snapshot Empty { get; } = new(ReadOnlyMemory<byte>.Empty, SnapshotMetadata.Empty);

    /// <summary>True for "no snapshot" (index 0).</summary>
    public bool IsEmpty => Metadata.Index == 0;

    /// <summary>A stable text form for logs and golden tests.</summary>
    public string Describe() =>
        $"Index:{Metadata.Index} Term:{Metadata.Term} ConfState:{Metadata.ConfState.Describe()}";
}
