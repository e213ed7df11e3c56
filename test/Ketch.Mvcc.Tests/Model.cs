using System.Collections.Immutable;

namespace Ketch.Mvcc.Tests;

/// <summary>
/// The obviously-correct reference: every historical state kept whole (state i is the store at
/// revision i), operations written straight from etcd's documented semantics. Only flat
/// transactions (no nesting), which is what the generator produces.
/// </summary>
internal sealed class Model
{
    private readonly List<ImmutableSortedDictionary<string, KeyValue>> _states =
        [ImmutableSortedDictionary<string, KeyValue>.Empty.WithComparers(StringComparer.Ordinal)];

    private long _compacted = -1;

    public long Current => _states.Count; // _states[0] is revision 1

    public ImmutableSortedDictionary<string, KeyValue> At(long rev) => _states[(int)rev - 1];

    public static bool InRange(string key, string start, string? end) =>
        string.IsNullOrEmpty(end) ? key == start
        : end == "\0" ? string.CompareOrdinal(key, start) >= 0
        : string.CompareOrdinal(key, start) >= 0 && string.CompareOrdinal(key, end) < 0;

    public RangeResponse Range(RangeRequest r) => RangeIn(r, Current, At(Current));

    private RangeResponse RangeIn(RangeRequest r, long cur, ImmutableSortedDictionary<string, KeyValue> latest)
    {
        if (r.Revision > cur)
        {
            throw new MvccException(MvccError.FutureRevision);
        }

        if (r.Revision > 0 && r.Revision < _compacted)
        {
            throw new MvccException(MvccError.Compacted);
        }

        var state = r.Revision <= 0 ? latest : At(r.Revision);
        var start = Stores.S(r.Key);
        var end = r.RangeEnd is null ? null : Stores.S(r.RangeEnd);
        var all = state.Values.Where(kv => InRange(Stores.S(kv.Key), start, end)).ToList();
        if (r.CountOnly)
        {
            return new RangeResponse { Revision = cur, Count = all.Count };
        }

        var kept = all.Where(kv =>
            (r.MaxModRevision == 0 || kv.ModRevision <= r.MaxModRevision)
            && (r.MinModRevision == 0 || kv.ModRevision >= r.MinModRevision)
            && (r.MaxCreateRevision == 0 || kv.CreateRevision <= r.MaxCreateRevision)
            && (r.MinCreateRevision == 0 || kv.CreateRevision >= r.MinCreateRevision)).ToList();
        if (r.SortOrder != SortOrder.None || r.SortTarget != SortTarget.Key)
        {
            Func<KeyValue, string> target = r.SortTarget switch
            {
                SortTarget.Key => kv => Stores.S(kv.Key),
                SortTarget.Version => kv => kv.Version.ToString("D20"),
                SortTarget.Create => kv => kv.CreateRevision.ToString("D20"),
                SortTarget.Mod => kv => kv.ModRevision.ToString("D20"),
                _ => kv => Stores.S(kv.Value),
            };
            var byKey = kept.OrderBy(kv => Stores.S(kv.Key), StringComparer.Ordinal);
            kept = r.SortOrder == SortOrder.Descend
                ? [.. byKey.OrderByDescending(target, StringComparer.Ordinal)]
                : [.. byKey.OrderBy(target, StringComparer.Ordinal)];
        }

        var more = r.Limit > 0 && kept.Count > r.Limit;
        if (more)
        {
            kept = kept.Take((int)r.Limit).ToList();
        }

        if (r.KeysOnly)
        {
            kept = [.. kept.Select(kv => new KeyValue { Key = kv.Key, CreateRevision = kv.CreateRevision, ModRevision = kv.ModRevision, Version = kv.Version, Lease = kv.Lease })];
        }

        return new RangeResponse { Revision = cur, Count = all.Count, More = more, Kvs = kept };
    }

    public PutResponse Put(PutRequest r)
    {
        CheckPut(r, At(Current));
        var state = At(Current);
        var resp = PutIn(r, ref state, Current + 1);
        _states.Add(state);
        return resp;
    }

    public DeleteRangeResponse Delete(DeleteRangeRequest r)
    {
        var state = At(Current);
        var resp = DeleteIn(r, ref state, Current + 1, Current);
        if (resp.Deleted > 0)
        {
            _states.Add(state);
        }

        return resp;
    }

    public void Compact(long rev)
    {
        if (rev <= _compacted)
        {
            throw new MvccException(MvccError.Compacted);
        }

        if (rev > Current)
        {
            throw new MvccException(MvccError.FutureRevision);
        }

        _compacted = rev;
    }

    public TxnResponse Txn(TxnRequest r)
    {
        foreach (var op in r.Success.Concat(r.Failure))
        {
            if (op.Put is { } p)
            {
                if (p.IgnoreValue && p.Value.Length != 0)
                {
                    throw new MvccException(MvccError.ValueProvided);
                }

                if (p.IgnoreLease && p.Lease != 0)
                {
                    throw new MvccException(MvccError.LeaseProvided);
                }
            }
        }

        CheckDuplicates(r.Success);
        CheckDuplicates(r.Failure);
        var before = At(Current);
        var ok = r.Compares.All(c => Holds(c, before));
        var ops = ok ? r.Success : r.Failure;
        foreach (var op in ops)
        {
            if (op.Range is { } rr && (rr.Revision > Current || rr.Revision > 0 && rr.Revision < _compacted))
            {
                throw new MvccException(rr.Revision > Current ? MvccError.FutureRevision : MvccError.Compacted);
            }

            if (op.Put is { } p)
            {
                CheckPut(p, before);
            }
        }

        var state = before;
        var main = Current + 1;
        var changed = false;
        var responses = new List<ResponseOp>();
        foreach (var op in ops)
        {
            var cur = changed ? main : main - 1;
            if (op.Range is { } rr)
            {
                responses.Add(new ResponseOp { Range = RangeIn(rr, cur, state) });
            }
            else if (op.Put is { } p)
            {
                responses.Add(new ResponseOp { Put = PutIn(p, ref state, main) });
                changed = true;
            }
            else if (op.DeleteRange is { } d)
            {
                var resp = DeleteIn(d, ref state, main, cur);
                changed |= resp.Deleted > 0;
                responses.Add(new ResponseOp { DeleteRange = resp });
            }
        }

        if (changed)
        {
            _states.Add(state);
        }

        return new TxnResponse { Revision = Current, Succeeded = ok, Responses = responses };
    }

    private static void CheckPut(PutRequest r, ImmutableSortedDictionary<string, KeyValue> state)
    {
        if (r.IgnoreValue && r.Value.Length != 0)
        {
            throw new MvccException(MvccError.ValueProvided);
        }

        if (r.IgnoreLease && r.Lease != 0)
        {
            throw new MvccException(MvccError.LeaseProvided);
        }

        if ((r.IgnoreValue || r.IgnoreLease) && !state.ContainsKey(Stores.S(r.Key)))
        {
            throw new MvccException(MvccError.KeyNotFound);
        }
    }

    private static void CheckDuplicates(IReadOnlyList<RequestOp> ops)
    {
        var puts = new HashSet<string>();
        foreach (var op in ops)
        {
            if (op.Put is { } p && !puts.Add(Stores.S(p.Key)))
            {
                throw new MvccException(MvccError.DuplicateKey);
            }
        }

        foreach (var op in ops)
        {
            // etcd compares interval ends literally: a "\0" end makes an empty interval.
            if (op.DeleteRange is { } d && puts.Any(k =>
                    d.RangeEnd is { Length: > 0 } e
                        ? string.CompareOrdinal(k, Stores.S(d.Key)) >= 0 && string.CompareOrdinal(k, Stores.S(e)) < 0
                        : k == Stores.S(d.Key)))
            {
                throw new MvccException(MvccError.DuplicateKey);
            }
        }
    }

    private static bool Holds(Compare c, ImmutableSortedDictionary<string, KeyValue> state)
    {
        var end = c.RangeEnd is null ? null : Stores.S(c.RangeEnd);
        var kvs = state.Values.Where(kv => InRange(Stores.S(kv.Key), Stores.S(c.Key), end)).ToList();
        if (kvs.Count == 0)
        {
            if (c.Target == CompareTarget.Value)
            {
                return false;
            }

            kvs = [new KeyValue { Key = c.Key }];
        }

        return kvs.All(kv =>
        {
            var result = c.Target switch
            {
                CompareTarget.Version => kv.Version.CompareTo(c.Number),
                CompareTarget.Create => kv.CreateRevision.CompareTo(c.Number),
                CompareTarget.Mod => kv.ModRevision.CompareTo(c.Number),
                CompareTarget.Lease => kv.Lease.CompareTo(c.Number),
                _ => Math.Sign(string.CompareOrdinal(Stores.S(kv.Value), Stores.S(c.Value))),
            };
            return c.Result switch
            {
                CompareResult.Equal => result == 0,
                CompareResult.NotEqual => result != 0,
                CompareResult.Greater => result > 0,
                _ => result < 0,
            };
        });
    }

    private static PutResponse PutIn(PutRequest r, ref ImmutableSortedDictionary<string, KeyValue> state, long main)
    {
        var key = Stores.S(r.Key);
        var prev = state.GetValueOrDefault(key);
        state = state.SetItem(key, new KeyValue
        {
            Key = r.Key,
            CreateRevision = prev?.CreateRevision ?? main,
            ModRevision = main,
            Version = (prev?.Version ?? 0) + 1,
            Value = r.IgnoreValue ? prev?.Value ?? [] : r.Value,
            Lease = r.IgnoreLease ? prev?.Lease ?? 0 : r.Lease,
        });
        return new PutResponse { Revision = main, PrevKv = r.PrevKv ? prev : null };
    }

    private static DeleteRangeResponse DeleteIn(DeleteRangeRequest r, ref ImmutableSortedDictionary<string, KeyValue> state, long main, long cur)
    {
        var end = r.RangeEnd is null ? null : Stores.S(r.RangeEnd);
        var victims = state.Values.Where(kv => InRange(Stores.S(kv.Key), Stores.S(r.Key), end)).ToList();
        foreach (var kv in victims)
        {
            state = state.Remove(Stores.S(kv.Key));
        }

        return new DeleteRangeResponse
        {
            Revision = victims.Count > 0 ? main : cur,
            Deleted = victims.Count,
            PrevKvs = r.PrevKv ? victims : [],
        };
    }
}
