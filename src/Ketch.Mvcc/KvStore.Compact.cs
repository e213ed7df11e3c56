using Ketch.Mvcc.Backend;

namespace Ketch.Mvcc;

public sealed partial class KvStore
{
    private const int CompactionChunk = 10_000;
    private readonly Lock _compactLock = new();

    /// <summary>
    /// Compacts the history at <paramref name="revision"/>: reads below it fail from now on; the latest
    /// version of every key live at it is kept. The index is compacted at once; the backend entries
    /// are then deleted in chunks of 10,000, releasing the lock between chunks so writers proceed.
    /// Progress is recorded (scheduled, finished) so a crash in between is finished at the next open.
    /// RocksDB reclaims the space in its background compactions; there is no blocking defrag.
    /// </summary>
    /// <exception cref="MvccException">Already compacted at or above, or a future revision.</exception>
    public void Compact(long revision)
    {
        lock (_compactLock)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            HashSet<Revision> keep;
            lock (_lock)
            {
                ThrowIfClosed();
                if (revision <= _compactRev)
                {
                    throw new MvccException(MvccError.Compacted);
                }

                if (revision > _currentRev)
                {
                    throw new MvccException(MvccError.FutureRevision);
                }

                _compactRev = revision;
                var indexStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                keep = _index.Compact(revision);
                CompactionObserver?.Invoke(CompactionPhase.IndexPause, System.Diagnostics.Stopwatch.GetElapsedTime(indexStarted));
                WriteMetaLong(s_scheduledCompactKey, revision);
                CommitBatch(); // every revision below `revision` is now in RocksDB, where the scan looks
            }

            DeleteCompacted(revision, keep);
            CompactionObserver?.Invoke(CompactionPhase.Total, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>Told how long each part of a compaction took (the member's metrics).</summary>
    public Action<CompactionPhase, TimeSpan>? CompactionObserver { get; set; }

    /// <summary>Deletes the backend entries below <paramref name="revision"/> not in <paramref name="keep"/>.</summary>
    private void DeleteCompacted(long revision, HashSet<Revision> keep)
    {
        var cursor = new Revision(0, 0);
        while (true)
        {
            lock (_lock)
            {
                if (_closed)
                {
                    return;
                }

                var chunkStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                var chunk = _backend.CommittedRevisionsBelow(cursor, revision, CompactionChunk);
                long removed = 0;
                foreach (var rev in chunk)
                {
                    if (!keep.Contains(rev))
                    {
                        _backend.DeleteRevision(rev);
                        removed++;
                    }
                }
                Stats.Compacted(removed);

                if (chunk.Count == CompactionChunk)
                {
                    cursor = chunk[^1] with { Sub = chunk[^1].Sub + 1 };
                    CommitBatch();
                    CompactionObserver?.Invoke(CompactionPhase.BackendPause, System.Diagnostics.Stopwatch.GetElapsedTime(chunkStarted));
                    continue;
                }

                WriteMetaLong(s_finishedCompactKey, revision);
                CommitBatch();
                return;
            }
        }
    }
}
