using Ketch.Raft.Storage;

namespace Ketch.Raft;

/// <summary>
/// The log as the state machine sees it: the durable prefix in <see cref="IRaftStorage"/>
/// followed by the <see cref="Unstable"/> tail, with the commit and apply cursors.
/// Invariant: <c>applied &lt;= applying &lt;= committed &lt;= lastIndex</c>.
/// </summary>
internal sealed class RaftLog
{
    private readonly IRaftStorage _storage;
    private readonly Unstable _unstable;
    private readonly long _maxApplyingBytes;

    public RaftLog(IRaftStorage storage, long maxApplyingBytes)
    {
        _storage = storage;
        _maxApplyingBytes = maxApplyingBytes;
        var first = storage.FirstIndex();
        var last = storage.LastIndex();
        _unstable = new Unstable(last + 1);
        // Everything up to the compaction point is in the snapshot, hence committed and applied.
        Committed = first - 1;
        Applying = first - 1;
        Applied = first - 1;
    }

    /// <summary>The highest index known committed (Raft §5.3).</summary>
    public ulong Committed { get; private set; }

    /// <summary>The highest index handed to the application to apply (in a Ready).</summary>
    public ulong Applying { get; private set; }

    /// <summary>The highest index the application confirmed applied.</summary>
    public ulong Applied { get; private set; }

    public Unstable Unstable => _unstable;

    public ulong FirstIndex() => _unstable.TryFirstIndex(out var i) ? i : _storage.FirstIndex();

    public ulong LastIndex() => _unstable.TryLastIndex(out var i) ? i : _storage.LastIndex();

    public ulong LastTerm()
    {
        var t = Term(LastIndex());
        return t.IsOk ? t.Value : throw new InvalidOperationException($"unexpected error reading the last term: {t.Error}");
    }

    /// <summary>The term of entry <paramref name="index"/>, valid in [FirstIndex-1, LastIndex].</summary>
    public StorageResult<ulong> Term(ulong index)
    {
        if (_unstable.TryTerm(index, out var t))
        {
            return t;
        }
        if (index + 1 < FirstIndex())
        {
            return StorageResult<ulong>.Fail(StorageError.Compacted);
        }
        if (index > LastIndex())
        {
            return StorageResult<ulong>.Fail(StorageError.Unavailable);
        }
        var r = _storage.Term(index);
        if (r.IsOk || r.Error is StorageError.Compacted or StorageError.Unavailable)
        {
            return r;
        }
        throw new InvalidOperationException($"unexpected storage error reading term {index}: {r.Error}");
    }

    /// <summary>The term at <paramref name="index"/>, or 0 if it is outside the log.</summary>
    public ulong TermOrZero(ulong index)
    {
        var t = Term(index);
        return t.IsOk ? t.Value : 0;
    }

    public bool MatchTerm(ulong index, ulong term)
    {
        var t = Term(index);
        return t.IsOk && t.Value == term;
    }

    /// <summary>Election restriction (Raft §5.4.1): a log with (lastIndex, lastTerm) is at least
    /// as up to date as ours.</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm)
    {
        var ourTerm = LastTerm();
        return lastTerm > ourTerm || (lastTerm == ourTerm && lastIndex >= LastIndex());
    }

    /// <summary>
    /// The follower side of AppendEntries (Raft §5.3): if our log holds (logTerm, index), append
    /// <paramref name="entries"/> after it, replacing any conflicting suffix, and advance the
    /// commit index to what the leader says is committed but not past what was verified.
    /// </summary>
    /// <returns>The index of the last new entry, or null if the consistency check failed.</returns>
    public ulong? MaybeAppend(ulong index, ulong logTerm, ulong committed, ReadOnlyMemory<Entry> entries)
    {
        if (!MatchTerm(index, logTerm))
        {
            return null;
        }
        var lastNew = index + (ulong)entries.Length;
        var conflict = FindConflict(entries.Span);
        if (conflict != 0)
        {
            if (conflict <= Committed)
            {
                throw new InvalidOperationException(
                    $"entry {conflict} conflicts with committed entry (committed {Committed}): the log matching property is broken");
            }
            Append(entries[(int)(conflict - (index + 1))..]);
        }
        CommitTo(Math.Min(committed, lastNew));
        return lastNew;
    }

    /// <summary>The index of the first entry whose term differs from ours at that index (or
    /// that we lack), or 0 when every entry is already held.</summary>
    public ulong FindConflict(ReadOnlySpan<Entry> entries)
    {
        foreach (var e in entries)
        {
            if (!MatchTerm(e.Index, e.Term))
            {
                return e.Index;
            }
        }
        return 0;
    }

    /// <summary>
    /// Fast log backtracking: the largest index &lt;= <paramref name="index"/> whose term is
    /// &lt;= <paramref name="term"/>, with that term. Entries above it cannot match a log whose
    /// entry at <paramref name="index"/> has <paramref name="term"/>, so the leader can skip them
    /// all in one round trip. An unknown term (compacted) is reported as 0: a possible match.
    /// </summary>
    public (ulong Index, ulong Term) FindConflictByTerm(ulong index, ulong term)
    {
        for (; index > 0; index--)
        {
            var ours = Term(index);
            if (!ours.IsOk)
            {
                return (index, 0);
            }
            if (ours.Value <= term)
            {
                return (index, ours.Value);
            }
        }
        return (0, 0);
    }

    /// <summary>Appends entries to the unstable tail; returns the new last index.</summary>
    public ulong Append(ReadOnlyMemory<Entry> entries)
    {
        if (entries.IsEmpty)
        {
            return LastIndex();
        }
        var after = entries.Span[0].Index - 1;
        if (after < Committed)
        {
            throw new InvalidOperationException($"appending after {after} would overwrite committed entries (committed {Committed})");
        }
        _unstable.TruncateAndAppend(entries);
        return LastIndex();
    }

    /// <summary>Appends one entry the leader built at the end of its log (no truncation).</summary>
    public void AppendLeaderEntry(Entry entry)
    {
        var expected = LastIndex() + 1;
        if (entry.Index != expected)
        {
            throw new InvalidOperationException($"leader entry at {entry.Index}, expected {expected}");
        }
        _unstable.AppendAtEnd(entry);
    }

    /// <summary>Whether a snapshot is waiting to be persisted; while one is, no entries are
    /// applied and this member cannot campaign.</summary>
    public bool HasPendingSnapshot => _unstable.Snapshot is not null;

    /// <summary>Committed entries not yet handed out to apply, bounded by the Ready size limit.</summary>
    public ReadOnlyMemory<Entry> NextCommittedEntries()
    {
        if (HasPendingSnapshot)
        {
            return ReadOnlyMemory<Entry>.Empty;
        }
        var lo = Math.Max(Applying + 1, FirstIndex());
        var hi = Committed + 1;
        if (lo >= hi)
        {
            return ReadOnlyMemory<Entry>.Empty;
        }
        var r = Slice(lo, hi, _maxApplyingBytes);
        return r.IsOk ? r.Value : throw new InvalidOperationException($"unexpected error reading committed entries: {r.Error}");
    }

    public bool HasNextCommittedEntries() =>
        !HasPendingSnapshot && Committed > Math.Max(Applying, FirstIndex() - 1);

    public StorageResult<Snapshot> Snapshot() => _unstable.Snapshot is { } s ? s : _storage.Snapshot();

    public void CommitTo(ulong index)
    {
        if (index <= Committed)
        {
            return;
        }
        var last = LastIndex();
        if (index > last)
        {
            throw new InvalidOperationException($"commit index {index} is out of range [last index {last}]: the log is corrupt, truncated or lost");
        }
        Committed = index;
    }

    /// <summary>Commits <paramref name="index"/> if its entry is of the current term: a leader
    /// never commits older-term entries by counting replicas (Raft §5.4.2).</summary>
    public bool MaybeCommit(ulong index, ulong term)
    {
        if (index > Committed && TermOrZero(index) == term)
        {
            CommitTo(index);
            return true;
        }
        return false;
    }

    public void AcceptApplying(ulong index)
    {
        if (index > Applying)
        {
            Applying = index;
        }
    }

    public void AppliedTo(ulong index)
    {
        if (index == 0)
        {
            return;
        }
        if (index > Committed || index < Applied)
        {
            throw new InvalidOperationException($"applied index {index} out of range [applied {Applied}, committed {Committed}]");
        }
        Applied = index;
        if (Applying < index)
        {
            Applying = index;
        }
    }

    public void StableTo(ulong index, ulong term) => _unstable.StableTo(index, term);

    public void StableSnapTo(ulong index) => _unstable.StableSnapTo(index);

    /// <summary>Replaces the log with a snapshot (follower, InstallSnapshot, Raft §7).</summary>
    public void Restore(Snapshot snapshot)
    {
        Committed = snapshot.Metadata.Index;
        _unstable.Restore(snapshot);
    }

    /// <summary>Entries from <paramref name="index"/> to the end, up to <paramref name="maxBytes"/>.</summary>
    public StorageResult<ReadOnlyMemory<Entry>> Entries(ulong index, long maxBytes)
    {
        var last = LastIndex();
        return index > last ? ReadOnlyMemory<Entry>.Empty : Slice(index, last + 1, maxBytes);
    }

    /// <summary>Entries [lo, hi), up to <paramref name="maxBytes"/> (at least one).</summary>
    public StorageResult<ReadOnlyMemory<Entry>> Slice(ulong lo, ulong hi, long maxBytes)
    {
        if (lo > hi)
        {
            throw new InvalidOperationException($"invalid slice {lo} > {hi}");
        }
        var first = FirstIndex();
        if (lo < first)
        {
            return StorageResult<ReadOnlyMemory<Entry>>.Fail(StorageError.Compacted);
        }
        var last = LastIndex();
        if (hi > last + 1)
        {
            throw new InvalidOperationException($"slice [{lo},{hi}) out of bound [{first},{last}]");
        }
        if (lo == hi)
        {
            return ReadOnlyMemory<Entry>.Empty;
        }
        var offset = _unstable.Offset;
        if (lo >= offset)
        {
            return LogLimits.LimitSize(_unstable.Slice(lo, hi), maxBytes);
        }
        var stored = _storage.Entries(lo, Math.Min(hi, offset), maxBytes);
        if (!stored.IsOk)
        {
            if (stored.Error == StorageError.Compacted)
            {
                return stored;
            }
            throw new InvalidOperationException($"entries [{lo},{Math.Min(hi, offset)}) unavailable from storage: {stored.Error}");
        }
        var head = stored.Value;
        if (hi <= offset || (ulong)head.Length < Math.Min(hi, offset) - lo)
        {
            // Entirely stable, or the size limit stopped inside the stable part.
            return head;
        }
        // The range spans stable and unstable entries: the one case that copies.
        var tail = LogLimits.LimitSize(_unstable.Slice(offset, hi), maxBytes - SizeOf(head.Span));
        var joined = new Entry[head.Length + tail.Length];
        head.CopyTo(joined);
        tail.CopyTo(joined.AsMemory(head.Length));
        return LogLimits.LimitSize(joined, maxBytes);
    }

    private static long SizeOf(ReadOnlySpan<Entry> entries)
    {
        long size = 0;
        foreach (var e in entries)
        {
            size += e.SizeBytes;
        }
        return size;
    }
}
