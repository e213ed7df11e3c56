namespace Ketch.Mvcc.Backend;

/// <summary>
/// A bounded cache of decoded revisions, approximating LRU with two generations: entries go into
/// the young map; when it holds half the budget it becomes the old map and the previous old map is
/// dropped; a hit in the old map promotes the entry. Memory stays under the byte budget.
/// </summary>
internal sealed class RevisionCache(long budgetBytes)
{
    private readonly long _halfBudgetBytes = Math.Max(1, budgetBytes / 2);
    private Dictionary<Revision, KeyValue> _young = [];
    private Dictionary<Revision, KeyValue> _old = [];
    private long _youngBytes;

    /// <summary>Looks <paramref name="rev"/> up.</summary>
    public bool TryGet(Revision rev, out KeyValue kv)
    {
        if (_young.TryGetValue(rev, out kv!))
        {
            return true;
        }

        if (_old.Remove(rev, out kv!))
        {
            Add(rev, kv);
            return true;
        }

        return false;
    }

    /// <summary>Adds or replaces <paramref name="rev"/>.</summary>
    public void Add(Revision rev, KeyValue kv)
    {
        if (_youngBytes >= _halfBudgetBytes)
        {
            _old = _young;
            _young = [];
            _youngBytes = 0;
        }

        _young[rev] = kv;
        _youngBytes += kv.SizeBytes;
    }

    /// <summary>Drops <paramref name="rev"/> (compaction).</summary>
    public void Remove(Revision rev)
    {
        _young.Remove(rev);
        _old.Remove(rev);
    }
}
