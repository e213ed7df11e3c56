namespace Ketch.Mvcc.Index;

/// <summary>
/// One life of a key: the revisions from its creation to its deletion (the tombstone, if any, is
/// the last revision). <see cref="Version"/> counts every revision ever added, so the version of the
/// revision at position i is <c>Version - (Revs.Count - 1 - i)</c> even after compaction trimmed
/// older revisions away.
/// </summary>
internal sealed class Generation
{
    /// <summary>The revisions of this life in increasing order.</summary>
    public List<Revision> Revs { get; } = [];

    /// <summary>The revision that created the key in this life.</summary>
    public Revision Created { get; set; }

    /// <summary>The number of revisions ever added to this life.</summary>
    public long Version { get; set; }

    /// <summary>True before the first revision is added.</summary>
    public bool IsEmpty => Revs.Count == 0;

    /// <summary>Index of the last revision whose main revision is at most <paramref name="atRev"/>, or -1.</summary>
    public int LastAtOrBefore(long atRev)
    {
        int lo = 0, hi = Revs.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (Revs[mid].Main <= atRev)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    /// <summary>The version of the revision at position <paramref name="index"/>.</summary>
    public long VersionAt(int index) => Version - (Revs.Count - 1 - index);
}
