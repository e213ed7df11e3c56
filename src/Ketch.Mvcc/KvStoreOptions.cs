namespace Ketch.Mvcc;

/// <summary>Settings of a <see cref="KvStore"/>.</summary>
public sealed record KvStoreOptions
{
    /// <summary>The RocksDB directory; created if missing.</summary>
    public required string Directory { get; init; }

    /// <summary>Commit the pending write batch once it holds this many operations (etcd: 10,000).</summary>
    public int BatchLimit { get; init; } = 10_000;

    /// <summary>Commit the pending write batch at least this often (etcd: 100 ms); zero disables the timer.</summary>
    public TimeSpan BatchInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>fsync every batch commit. Off by default: the Raft WAL is the durable record.</summary>
    public bool SyncWrites { get; init; }

    /// <summary>
    /// Budget of the cache of decoded revisions. Small on purpose: RocksDB's block cache holds the
    /// encoded data too, and this cache is resident memory on top of the index.
    /// </summary>
    public long CacheBytes { get; init; } = 16L << 20;

    /// <summary>Responses buffered per watcher before it falls back to catching up from the backend.</summary>
    public int WatchQueueCapacity { get; init; } = 128;

    /// <summary>A watcher that fell behind (its queue filled up) and is found more than this many
    /// revisions behind the store when it catches up is cancelled, telling its client the revision to resume from: a hopelessly slow watcher
    /// must not keep the server reading history on its behalf for ever. 0 disables the bound.</summary>
    public long MaxWatcherLagRevisions { get; init; } = 1_000_000;

    /// <summary>Most events in one catch-up response (a revision is never split, so it may exceed this).</summary>
    public int MaxEventsPerWatchResponse { get; init; } = 1_000;

    /// <summary>The clock for the batch timer.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where the store counts what it does; one instance may serve a member's successive
    /// stores (a snapshot replaces the store, and metrics counters must not go back). Null: a new one.</summary>
    public KvStoreStats? Stats { get; init; }
}
