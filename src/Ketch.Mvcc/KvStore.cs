using System.Buffers.Binary;
using Ketch.Mvcc.Backend;
using Ketch.Mvcc.Index;
using Ketch.Mvcc.Watch;

namespace Ketch.Mvcc;

/// <summary>
/// The MVCC key-value store with etcd's semantics: every write transaction takes one revision, reads
/// at any revision since the last compaction, watches from any such revision.
/// One lock serialises every operation: the apply loop is the only writer, and reads are short
/// (an index walk plus cache or RocksDB lookups). Byte arrays passed in are kept, not copied:
/// callers must not change them afterwards.
/// </summary>
public sealed partial class KvStore : IDisposable
{
    private static readonly byte[] s_consistentIndexKey = "consistent_index"u8.ToArray();
    private static readonly byte[] s_scheduledCompactKey = "scheduled_compact_rev"u8.ToArray();
    private static readonly byte[] s_finishedCompactKey = "finished_compact_rev"u8.ToArray();

    private readonly Lock _lock = new();

    // Taken before _lock, never after it: held across one Raft entry's apply (BeginApply).
    private readonly Lock _applyLock = new();
    private bool _consistentIndexDirty;
    private bool _commitWanted;
    private readonly KvStoreOptions _options;
    private readonly RocksBackend _backend;
    private readonly TreeIndex _index = new();
    private readonly WatcherHub _hub = new();
    private readonly HashSet<Watcher> _watchers = [];
    private readonly List<WatchEvent> _changes = [];
    private readonly ITimer? _batchTimer;
    private long _currentRev = 1;
    private Dictionary<byte[], long>? _recoveredLeases;
    private long _compactRev = -1;
    private long _liveKeys;
    private long _nextWatcherId;
    private int _activeSnapshots;
    private bool _closed;

    private KvStore(KvStoreOptions options)
    {
        _options = options;
        Stats = options.Stats ?? new KvStoreStats();
        _backend = new RocksBackend(options.Directory, options.SyncWrites, options.CacheBytes);
        Recover();
        if (options.BatchInterval > TimeSpan.Zero)
        {
            _batchTimer = options.TimeProvider.CreateTimer(
                _ => CommitPending(), null, options.BatchInterval, options.BatchInterval);
        }
    }

    /// <summary>Opens (or creates) the store in <see cref="KvStoreOptions.Directory"/>, rebuilding the index.</summary>
    public static KvStore Open(KvStoreOptions options) => new(options);

    /// <summary>The revision of the last write transaction (1 for an empty store).</summary>
    public long CurrentRevision
    {
        get
        {
            lock (_lock)
            {
                return _currentRev;
            }
        }
    }

    /// <summary>The revision of the last compaction, 0 if none.</summary>
    public long CompactRevision
    {
        get
        {
            lock (_lock)
            {
                return Math.Max(0, _compactRev);
            }
        }
    }

    /// <summary>The revision of the last compaction as etcd's metrics give it: -1 if none.</summary>
    public long LastCompaction => Volatile.Read(ref _compactRev);

    /// <summary>Read views open on a backend snapshot (exports, snapshots being sent, hashes).</summary>
    public int OpenReadViews => Volatile.Read(ref _activeSnapshots);

    /// <summary>Counters of what the store has done since it opened (the member's metrics).</summary>
    public KvStoreStats Stats { get; }

    /// <summary>Keys that exist at the current revision (etcd's keys gauge).</summary>
    public long LiveKeys => Volatile.Read(ref _liveKeys); // written under the lock only

    /// <summary>The watchers open on the store, those catching up from the backend (etcd's slow,
    /// unsynced watchers), and the events queued for their readers.</summary>
    public (int Watchers, int Unsynced, long PendingEvents) WatcherCounts()
    {
        lock (_lock)
        {
            int unsynced = 0;
            long pending = 0;
            foreach (var w in _watchers)
            {
                if (w.State == WatcherState.Unsynced)
                {
                    unsynced++;
                }
                pending += w.PendingEvents;
            }
            return (_watchers.Count, unsynced, pending);
        }
    }

    /// <summary>The index of the last Raft entry applied, as recorded with the data it produced.</summary>
    public ulong ConsistentIndex { get; private set; }

    /// <summary>The term of the entry at <see cref="ConsistentIndex"/>.</summary>
    public ulong ConsistentTerm { get; private set; }

    /// <summary>Bytes taken by the database (files and memtables as of the last commit, plus the
    /// writes pending since); cheap, lock-free, and still answers (the last value) after the store
    /// is closed.</summary>
    public long DbSizeBytes => _backend.SizeBytes;

    /// <summary>Estimated bytes of live data in the database as of the last commit.</summary>
    public long DbSizeInUseBytes => _backend.SizeInUseBytes;

    /// <summary>
    /// The keys that carry a lease, with their lease, as the open found them; null once any write
    /// happened since the open, or once taken. The server rebuilds its lease-to-keys map from this
    /// instead of a range over every key: that range decoded every value of the store (821 MB
    /// allocated and 7.7 s of a restart with 1,000,000 keys of 256 B).
    /// </summary>
    public IReadOnlyDictionary<byte[], long>? TakeRecoveredLeases()
    {
        lock (_lock)
        {
            var leases = _recoveredLeases;
            _recoveredLeases = null;
            return leases;
        }
    }

    /// <summary>
    /// Records the Raft entry just applied. It is written in the batch that carries that entry's
    /// data (once per batch, at commit, not once per entry), so after a crash the store comes back
    /// at a consistent index and replaying from there is idempotent.
    /// </summary>
    public void SetConsistentIndex(ulong index, ulong term)
    {
        lock (_lock)
        {
            ThrowIfClosed();
            ConsistentIndex = index;
            ConsistentTerm = term;
            _consistentIndexDirty = true;
        }
    }

    /// <summary>
    /// Brackets the apply of one Raft entry (all its writes, then <see cref="SetConsistentIndex"/>):
    /// until the scope is disposed no batch commit from another thread (the batch timer, a snapshot)
    /// lands between the entry's writes, and a commit its own writes call for waits for the end. A
    /// batch written in the middle of an entry would hold part of its effects under the previous
    /// index, and a restart would apply the entry a second time (a second revision for one put).
    /// etcd holds its backend's batch lock across an entry's apply for the same reason.
    /// </summary>
    public ApplyScope BeginApply()
    {
        _applyLock.Enter();
        return new ApplyScope(this);
    }

    private void EndApply()
    {
        try
        {
            if (_commitWanted)
            {
                lock (_lock)
                {
                    _commitWanted = false;
                    if (!_closed)
                    {
                        CommitBatch();
                    }
                }
            }
        }
        finally
        {
            _applyLock.Exit();
        }
    }

    /// <summary>The apply of one entry; dispose it when the entry is applied (see <see cref="BeginApply"/>).</summary>
    public readonly struct ApplyScope : IDisposable
    {
        private readonly KvStore _store;

        internal ApplyScope(KvStore store) => _store = store;

        /// <summary>Ends the entry's apply; a commit its writes asked for happens now.</summary>
        public void Dispose() => _store?.EndApply();
    }

    /// <summary>Writes the pending batch, with the consistent index when it moved. Caller holds
    /// <see cref="_lock"/>.</summary>
    /// <summary>Called with the duration of each commit of the write batch (a metrics hook; runs
    /// under the store's lock, so it must be quick).</summary>
    public Action<TimeSpan>? CommitObserver { get; set; }

    private void CommitBatch()
    {
        if (_consistentIndexDirty)
        {
            var v = new byte[16];
            BinaryPrimitives.WriteUInt64BigEndian(v, ConsistentIndex);
            BinaryPrimitives.WriteUInt64BigEndian(v.AsSpan(8), ConsistentTerm);
            _backend.PutBucket(BackendBucket.Meta, s_consistentIndexKey, v);
            _consistentIndexDirty = false;
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        _backend.Commit();
        CommitObserver?.Invoke(System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    /// <summary>A commit that the write path asks for once the batch is big: inside an entry's
    /// apply it waits for the entry's end.</summary>
    private void CommitFull()
    {
        if (_applyLock.IsHeldByCurrentThread)
        {
            _commitWanted = true;
            return;
        }
        CommitBatch();
    }

    /// <summary>Writes a bucket entry (leases, members, auth) in the pending batch, with the data.</summary>
    public void PutBucketValue(BackendBucket bucket, ReadOnlySpan<byte> key, byte[] value)
    {
        CheckUserBucket(bucket);
        lock (_lock)
        {
            ThrowIfClosed();
            _backend.PutBucket(bucket, key, value);
        }
    }

    /// <summary>Deletes a bucket entry in the pending batch.</summary>
    public void DeleteBucketValue(BackendBucket bucket, ReadOnlySpan<byte> key)
    {
        CheckUserBucket(bucket);
        lock (_lock)
        {
            ThrowIfClosed();
            _backend.DeleteBucket(bucket, key);
        }
    }

    /// <summary>Reads a bucket entry (pending writes included); null if absent.</summary>
    public byte[]? GetBucketValue(BackendBucket bucket, ReadOnlySpan<byte> key)
    {
        CheckUserBucket(bucket);
        lock (_lock)
        {
            ThrowIfClosed();
            return _backend.GetBucket(bucket, key);
        }
    }

    /// <summary>Every entry of a bucket in key order.</summary>
    public IReadOnlyList<KeyValuePair<byte[], byte[]>> ReadBucket(BackendBucket bucket)
    {
        CheckUserBucket(bucket);
        lock (_lock)
        {
            ThrowIfClosed();
            return _backend.ReadBucket(bucket);
        }
    }

    /// <summary>Writes the pending batch now (normally done by count and by timer).</summary>
    public void Commit()
    {
        lock (_applyLock)
        {
            lock (_lock)
            {
                ThrowIfClosed();
                CommitBatch();
            }
        }
    }

    /// <summary>Commits pending writes, cancels watchers and closes the database.</summary>
    public void Dispose() => Close(commit: true);

    /// <summary>Closes without committing the pending batch, as a process crash would (tests).</summary>
    internal void Crash() => Close(commit: false);

    private void Close(bool commit)
    {
        _batchTimer?.Dispose();
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            foreach (var w in _watchers)
            {
                w.State = WatcherState.Canceled;
                w.Complete();
            }

            _watchers.Clear();
        }

        // A snapshot streams outside the lock: let it finish before the database goes away.
        var spin = new SpinWait();
        while (Volatile.Read(ref _activeSnapshots) > 0)
        {
            spin.SpinOnce();
        }

        lock (_lock)
        {
            if (commit)
            {
                CommitBatch();
                _backend.Dispose();
            }
            else
            {
                _backend.DisposeWithoutCommit();
            }
        }
    }

    private void CommitPending()
    {
        lock (_applyLock)
        {
            lock (_lock)
            {
                if (!_closed)
                {
                    CommitBatch();
                }
            }
        }
    }

    /// <summary>Rebuilds the index from the backend and finishes an interrupted compaction.</summary>
    private void Recover()
    {
        if (_backend.GetBucket(BackendBucket.Meta, s_consistentIndexKey) is { Length: 16 } ci)
        {
            ConsistentIndex = BinaryPrimitives.ReadUInt64BigEndian(ci);
            ConsistentTerm = BinaryPrimitives.ReadUInt64BigEndian(ci.AsSpan(8));
        }

        var scheduled = ReadMetaLong(s_scheduledCompactKey);
        var finished = ReadMetaLong(s_finishedCompactKey);
        long maxMain = 1;
        var leases = new Dictionary<byte[], long>(ByteKeys.EqualityComparer);
        _backend.ScanIndexRecords((rev, key, createRevision, version, lease) =>
        {
            var ki = _index.Find(key) ?? _index.GetOrAdd(key.ToArray());
            if (createRevision == 0)
            {
                ki.RestoreTombstone(rev);
            }
            else
            {
                ki.RestorePut(rev, createRevision, version);
            }

            // The lease of a key is the one of its latest record: a later put without one, or a
            // tombstone, detaches it.
            if (lease != 0)
            {
                leases[ki.Key] = lease;
            }
            else if (leases.Count > 0)
            {
                leases.Remove(ki.Key);
            }

            maxMain = rev.Main;
        });
        _recoveredLeases = leases;

        if (scheduled >= 0)
        {
            _compactRev = scheduled;
            var keep = _index.Compact(scheduled);
            if (finished != scheduled)
            {
                DeleteCompacted(scheduled, keep);
            }
        }

        // A compaction may have removed the latest revisions (tombstones at or below it).
        _currentRev = Math.Max(maxMain, Math.Max(_compactRev, 1));
        foreach (var ki in _index.Range([0], [0]))
        {
            if (ki.TryGet(_currentRev, out _, out _, out _))
            {
                _liveKeys++;
            }
        }
    }

    private long ReadMetaLong(byte[] key) =>
        _backend.GetBucket(BackendBucket.Meta, key) is { Length: 8 } v ? BinaryPrimitives.ReadInt64BigEndian(v) : -1;

    private void WriteMetaLong(byte[] key, long value)
    {
        var v = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(v, value);
        _backend.PutBucket(BackendBucket.Meta, key, v);
    }

    /// <summary>The backend, for tests.</summary>
    internal RocksBackend Backend => _backend;

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_closed, this);

    private static void CheckUserBucket(BackendBucket bucket)
    {
        if (bucket is BackendBucket.Key or BackendBucket.Meta)
        {
            throw new ArgumentException("the key and meta buckets belong to the store", nameof(bucket));
        }
    }
}
