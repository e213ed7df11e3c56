namespace Ketch.Mvcc;

/// <summary>The parts of a compaction a member times (etcd's compaction histograms).</summary>
public enum CompactionPhase
{
    /// <summary>The index compaction, under the store's lock: writers wait for it.</summary>
    IndexPause,

    /// <summary>One full chunk of backend deletions, under the store's lock, after which writers get
    /// their turn (the last, partial chunk ends the compaction and is in <see cref="Total"/>).</summary>
    BackendPause,

    /// <summary>The whole compaction, from the request to the last deletion.</summary>
    Total,
}
