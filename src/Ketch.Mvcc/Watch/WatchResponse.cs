namespace Ketch.Mvcc;

/// <summary>
/// A batch of events for one watcher: whole revisions in increasing order, never a revision split in
/// two (etcd's <c>WatchResponse</c>, without the watch id that the gRPC layer adds).
/// </summary>
public sealed class WatchResponse
{
    /// <summary>The store revision the response was produced at (the header revision).</summary>
    public long Revision { get; init; }

    /// <summary>The events, ordered by (mod revision, position in the transaction).</summary>
    public IReadOnlyList<WatchEvent> Events { get; init; } = [];

    /// <summary>
    /// A progress notification: no events, and every event up to <see cref="Revision"/> has been delivered.
    /// </summary>
    public bool IsProgressNotify { get; init; }

    /// <summary>True in the last response of a watcher that the store cancelled.</summary>
    public bool Canceled { get; init; }

    /// <summary>When cancelled because its next revision was compacted: the compacted revision.</summary>
    public long CompactRevision { get; init; }

    /// <summary>Why the store cancelled the watcher.</summary>
    public string? CancelReason { get; init; }
}
