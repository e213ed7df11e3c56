using Ketch.Mvcc.Index;

namespace Ketch.Mvcc;

public sealed partial class KvStore
{
    /// <summary>
    /// Reads a key or range with etcd's semantics (server/etcdserver/txn: range). The range is walked
    /// in key order without materialising it: only the returned key-values are read, and a sorted
    /// range with a limit keeps just the best <c>limit</c> candidates.
    /// </summary>
    /// <exception cref="MvccException">Compacted or future revision, empty key.</exception>
    public RangeResponse Range(RangeRequest request)
    {
        if (request.Key.Length == 0)
        {
            throw new MvccException(MvccError.EmptyKey);
        }

        lock (_lock)
        {
            ThrowIfClosed();
            CheckRangeRevision(request.Revision, _currentRev);
            return RangeAt(request, _currentRev);
        }
    }

    private void CheckRangeRevision(long rev, long curRev)
    {
        if (rev > curRev)
        {
            throw new MvccException(MvccError.FutureRevision);
        }

        if (rev > 0 && rev < _compactRev)
        {
            throw new MvccException(MvccError.Compacted);
        }
    }

    /// <summary>A range read where <paramref name="curRev"/> is the latest revision visible.</summary>
    private RangeResponse RangeAt(RangeRequest r, long curRev)
    {
        CheckRangeRevision(r.Revision, curRev);
        Stats.Range();
        var rev = r.Revision <= 0 ? curRev : r.Revision;

        // etcd: results come in key order, so ASCEND by KEY needs no sort, and any other target
        // without an order is sorted ascending.
        var order = r.SortOrder;
        if (r.SortTarget != SortTarget.Key && order == SortOrder.None)
        {
            order = SortOrder.Ascend;
        }
        else if (r.SortTarget == SortTarget.Key && order == SortOrder.Ascend)
        {
            order = SortOrder.None;
        }

        if (r.CountOnly)
        {
            long n = 0;
            foreach (var ki in _index.Range(r.Key, r.RangeEnd))
            {
                if (ki.TryGet(rev, out _, out _, out _))
                {
                    n++;
                }
            }

            return new RangeResponse { Revision = curRev, Count = n };
        }

        return order == SortOrder.None ? RangeInKeyOrder(r, rev, curRev) : RangeSorted(r, rev, curRev, order);
    }

    private RangeResponse RangeInKeyOrder(RangeRequest r, long rev, long curRev)
    {
        var kvs = new List<KeyValue>();
        long count = 0;
        var more = false;
        foreach (var ki in _index.Range(r.Key, r.RangeEnd))
        {
            if (!ki.TryGet(rev, out var mod, out var created, out _))
            {
                continue;
            }

            count++; // the count is the whole range's, before filters and limit
            if (more || !PassesFilters(r, mod.Main, created.Main))
            {
                continue;
            }

            if (r.Limit > 0 && kvs.Count >= r.Limit)
            {
                more = true;
                continue;
            }

            kvs.Add(Fetch(mod, r.KeysOnly));
        }

        return new RangeResponse { Revision = curRev, Kvs = kvs, More = more, Count = count };
    }

    private RangeResponse RangeSorted(RangeRequest r, long rev, long curRev, SortOrder order)
    {
        var comparer = new CandidateOrder(r.SortTarget, order == SortOrder.Descend);
        var needValue = r.SortTarget == SortTarget.Value;
        var limited = r.Limit > 0 && r.Limit < int.MaxValue;
        var top = limited ? new PriorityQueue<Candidate, Candidate>(Comparer<Candidate>.Create((a, b) => comparer.Compare(b, a))) : null;
        var all = limited ? null : new List<Candidate>();
        long count = 0, matched = 0;
        foreach (var ki in _index.Range(r.Key, r.RangeEnd))
        {
            if (!ki.TryGet(rev, out var mod, out var created, out var version))
            {
                continue;
            }

            count++;
            if (!PassesFilters(r, mod.Main, created.Main))
            {
                continue;
            }

            matched++;
            var c = new Candidate(ki.Key, mod, created.Main, version, needValue ? Fetch(mod, keysOnly: false) : null);
            if (top is null)
            {
                all!.Add(c);
            }
            else if (top.Count < r.Limit)
            {
                top.Enqueue(c, c);
            }
            else
            {
                top.EnqueueDequeue(c, c); // keeps the best `limit` candidates, drops the worst
            }
        }

        if (top is not null)
        {
            all = new List<Candidate>(top.Count);
            while (top.TryDequeue(out var c, out _))
            {
                all.Add(c);
            }

            all.Reverse();
        }
        else
        {
            all!.Sort(comparer);
        }

        var kvs = new List<KeyValue>(all.Count);
        foreach (var c in all)
        {
            var kv = c.Kv ?? Fetch(c.Mod, r.KeysOnly);
            kvs.Add(r.KeysOnly ? kv.WithoutValue() : kv);
        }

        return new RangeResponse { Revision = curRev, Kvs = kvs, More = limited && matched > r.Limit, Count = count };
    }

    private static bool PassesFilters(RangeRequest r, long mod, long created) =>
        (r.MaxModRevision == 0 || mod <= r.MaxModRevision)
        && (r.MinModRevision == 0 || mod >= r.MinModRevision)
        && (r.MaxCreateRevision == 0 || created <= r.MaxCreateRevision)
        && (r.MinCreateRevision == 0 || created >= r.MinCreateRevision);

    private KeyValue Fetch(Revision rev, bool keysOnly)
    {
        var kv = _backend.GetRevision(rev)
            ?? throw new InvalidOperationException($"revision {rev} is in the index but not in the backend");
        return keysOnly ? kv.WithoutValue() : kv;
    }

    private readonly record struct Candidate(byte[] Key, Revision Mod, long Create, long Version, KeyValue? Kv);

    /// <summary>
    /// The order of a sorted range: the target, then the key ascending for ties (etcd's sort is not
    /// stable, so any tie order is etcd-compatible; ours is deterministic).
    /// </summary>
    private sealed class CandidateOrder(SortTarget target, bool descending) : IComparer<Candidate>
    {
        public int Compare(Candidate a, Candidate b)
        {
            var c = target switch
            {
                SortTarget.Key => ByteKeys.Compare(a.Key, b.Key),
                SortTarget.Version => a.Version.CompareTo(b.Version),
                SortTarget.Create => a.Create.CompareTo(b.Create),
                SortTarget.Mod => a.Mod.Main.CompareTo(b.Mod.Main),
                SortTarget.Value => ByteKeys.Compare(a.Kv!.Value, b.Kv!.Value),
                _ => 0,
            };
            if (descending)
            {
                c = -c;
            }

            return c != 0 ? c : ByteKeys.Compare(a.Key, b.Key);
        }
    }
}
