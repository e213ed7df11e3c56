namespace Ketch.Raft;

/// <summary>
/// The tail of the log not yet known to be durable: entries and possibly one incoming
/// snapshot that a <see cref="Ready"/> handed to the application and that
/// <see cref="RawNode.Advance"/> has not yet confirmed. Entries start at <see cref="Offset"/>.
/// </summary>
internal sealed class Unstable
{
    private readonly EntryBuffer _entries = new();

    public Unstable(ulong offset) => Offset = offset;

    /// <summary>The index of the first unstable entry (one past the last stable one).</summary>
    public ulong Offset { get; private set; }

    /// <summary>An incoming snapshot waiting to be persisted, if any.</summary>
    public Snapshot? Snapshot { get; private set; }

    public int Count => _entries.Count;

    /// <summary>The first index of the log if it is known from the pending snapshot.</summary>
    public bool TryFirstIndex(out ulong index)
    {
        if (Snapshot is { } s)
        {
            index = s.Metadata.Index + 1;
            return true;
        }
        index = 0;
        return false;
    }

    /// <summary>The last index of the log if the unstable part determines it.</summary>
    public bool TryLastIndex(out ulong index)
    {
        if (_entries.Count > 0)
        {
            index = Offset + (ulong)_entries.Count - 1;
            return true;
        }
        if (Snapshot is { } s)
        {
            index = s.Metadata.Index;
            return true;
        }
        index = 0;
        return false;
    }

    /// <summary>The term of entry <paramref name="index"/> if the unstable part holds it.</summary>
    public bool TryTerm(ulong index, out ulong term)
    {
        term = 0;
        if (index < Offset)
        {
            if (Snapshot is { } s && s.Metadata.Index == index)
            {
                term = s.Metadata.Term;
                return true;
            }
            return false;
        }
        if (!TryLastIndex(out var last) || index > last)
        {
            return false;
        }
        if (_entries.Count == 0)
        {
            // Only the snapshot remains and index == its index is handled above.
            return false;
        }
        term = _entries[(int)(index - Offset)].Term;
        return true;
    }

    /// <summary>All unstable entries (shared, not copied).</summary>
    public ReadOnlyMemory<Entry> Entries => _entries.Slice(0, _entries.Count);

    /// <summary>Marks entries up to (index, term) durable. A mismatched term means the entry was
    /// replaced after the Ready was handed out; then nothing is released.</summary>
    public void StableTo(ulong index, ulong term)
    {
        if (!TryTerm(index, out var t) || t != term || index < Offset)
        {
            return;
        }
        var n = (int)(index + 1 - Offset);
        _entries.DropPrefix(n);
        Offset = index + 1;
    }

    /// <summary>Marks the pending snapshot durable.</summary>
    public void StableSnapTo(ulong index)
    {
        if (Snapshot is { } s && s.Metadata.Index == index)
        {
            Snapshot = null;
        }
    }

    /// <summary>Replaces the whole log with a snapshot received from the leader.</summary>
    public void Restore(Snapshot snapshot)
    {
        Offset = snapshot.Metadata.Index + 1;
        _entries.Clear();
        Snapshot = snapshot;
    }

    /// <summary>Appends entries, first dropping any held entries at or after the first new index
    /// (a conflicting suffix, Raft §5.3).</summary>
    public void TruncateAndAppend(ReadOnlyMemory<Entry> entries)
    {
        var from = entries.Span[0].Index;
        var end = Offset + (ulong)_entries.Count;
        if (from == end)
        {
            _entries.Append(entries);
        }
        else if (from <= Offset)
        {
            // The new entries replace the whole unstable tail (and the stable suffix from
            // `from`, which storage truncates when these are persisted).
            Offset = from;
            _entries.Clear();
            _entries.Append(entries);
        }
        else
        {
            _entries.TruncateTo((int)(from - Offset));
            _entries.Append(entries.Span);
        }
    }

    /// <summary>Appends one entry right after the last one (the leader's proposals).</summary>
    public void AppendAtEnd(Entry entry)
    {
        var end = Offset + (ulong)_entries.Count;
        if (entry.Index != end)
        {
            // The log's last index comes from storage here (nothing unstable); append after it.
            TruncateAndAppend(new[] { entry });
            return;
        }
        _entries.Append(entry);
    }

    /// <summary>Entries [lo, hi), which must lie within the unstable part.</summary>
    public ReadOnlyMemory<Entry> Slice(ulong lo, ulong hi)
    {
        var end = Offset + (ulong)_entries.Count;
        if (lo > hi || lo < Offset || hi > end)
        {
            throw new InvalidOperationException($"unstable slice [{lo},{hi}) out of bound [{Offset},{end})");
        }
        return _entries.Slice((int)(lo - Offset), (int)(hi - Offset));
    }
}
