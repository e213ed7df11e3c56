namespace Ketch.Mvcc.Index;

/// <summary>
/// The history of one key as generations of revisions (etcd's keyIndex). Invariant: every
/// generation but the last is non-empty and ends with its tombstone; the last generation is the
/// live one, or empty after a deletion.
/// </summary>
internal sealed class KeyIndex(byte[] key)
{
    // The generations in order are _past (tombstoned lives, oldest first; null while there are none,
    // as for most keys) then _live. Two fields rather than a list of generations: the index holds
    // one KeyIndex per key, and a list costs two more objects per key.
    private Generation _live = new();
    private List<Generation>? _past;

    /// <summary>The key.</summary>
    public byte[] Key { get; } = key;

    /// <summary>The latest revision of the key, tombstones included.</summary>
    public Revision Modified { get; private set; }

    /// <summary>True when no revision is left (the key can be removed from the tree).</summary>
    public bool IsEmpty => _past is null or { Count: 0 } && _live.IsEmpty;

    private int GenerationCount => (_past?.Count ?? 0) + 1;

    private Generation GenerationAt(int i) => i == GenerationCount - 1 ? _live : _past![i];

    /// <summary>Records a put at <paramref name="rev"/>, which must be above every earlier revision.</summary>
    public void Put(Revision rev)
    {
        if (rev <= Modified)
        {
            throw new InvalidOperationException($"revision {rev} is not above {Modified} for a put");
        }

        var g = _live;
        if (g.IsEmpty)
        {
            g.Created = rev;
        }

        g.Add(rev);
        g.Version++;
        Modified = rev;
    }

    /// <summary>Records a deletion at <paramref name="rev"/>; the key must be live.</summary>
    public void Tombstone(Revision rev)
    {
        if (_live.IsEmpty)
        {
            throw new InvalidOperationException("tombstone of a key that is not live");
        }

        Put(rev);
        EndLife();
    }

    /// <summary>
    /// Restores a put read back from the backend at restart: the record carries the creation revision
    /// and version, which may predate revisions removed by compaction.
    /// </summary>
    public void RestorePut(Revision rev, long createRevision, long version)
    {
        Put(rev);
        var g = _live;
        g.Created = createRevision == rev.Main ? rev : new Revision(createRevision, 0);
        g.Version = version;
    }

    /// <summary>
    /// Restores a tombstone read back from the backend for a key whose live generation was
    /// compacted away; it forms a one-revision generation that the next compaction drops.
    /// </summary>
    public void RestoreTombstone(Revision rev)
    {
        if (_live.IsEmpty)
        {
            Put(rev);
            EndLife();
        }
        else
        {
            Tombstone(rev);
        }
    }

    /// <summary>
    /// The revision, creation revision and version of the key as of <paramref name="atRev"/>;
    /// false when the key did not exist then.
    /// </summary>
    public bool TryGet(long atRev, out Revision modified, out Revision created, out long version)
    {
        var count = GenerationCount;
        for (var gi = count - 1; gi >= 0; gi--)
        {
            var g = GenerationAt(gi);
            if (g.IsEmpty)
            {
                continue;
            }

            var tombstoned = gi != count - 1;
            if (tombstoned && g.Last.Main <= atRev)
            {
                break; // deleted at or before atRev; later generations start after atRev
            }

            var i = g.LastAtOrBefore(atRev);
            if (i >= 0)
            {
                modified = g[i];
                created = g.Created;
                version = g.VersionAt(i);
                return true;
            }
        }

        modified = default;
        created = default;
        version = 0;
        return false;
    }

    /// <summary>
    /// Drops the revisions superseded at <paramref name="atRev"/>: whole generations deleted at or
    /// before it, and in the others every revision older than the latest one at or before it.
    /// Adds the revisions below <paramref name="atRev"/> still needed to <paramref name="keep"/>.
    /// </summary>
    public void Compact(long atRev, HashSet<Revision> keep)
    {
        var count = GenerationCount;
        List<Generation>? keptPast = null;
        for (var gi = 0; gi < count; gi++)
        {
            var g = GenerationAt(gi);
            var tombstoned = gi != count - 1;
            if (tombstoned && g.Last.Main <= atRev)
            {
                continue;
            }

            var i = g.LastAtOrBefore(atRev);
            if (i > 0)
            {
                g.RemoveOldest(i);
            }

            if (i >= 0 && g[0].Main < atRev)
            {
                keep.Add(g[0]);
            }

            if (tombstoned)
            {
                (keptPast ??= []).Add(g);
            }
        }

        _past = keptPast; // the live (or empty) generation is always kept
    }

    /// <summary>Closes the live generation (it ended with a tombstone) and opens an empty one.</summary>
    private void EndLife()
    {
        (_past ??= []).Add(_live);
        _live = new Generation();
    }
}
