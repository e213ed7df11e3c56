using Ketch.Mvcc.Index;

namespace Ketch.Mvcc;

/// <summary>
/// The request checks etcd runs before a write reaches the store (server/etcdserver/api/v3rpc/key.go):
/// empty keys, ignore_value/ignore_lease misuse, and keys written twice in one transaction.
/// </summary>
internal static class TxnValidator
{
    /// <summary>Checks a put on its own.</summary>
    public static void CheckPut(PutRequest r)
    {
        if (r.Key.Length == 0)
        {
            throw new MvccException(MvccError.EmptyKey);
        }

        if (r.IgnoreValue && r.Value.Length != 0)
        {
            throw new MvccException(MvccError.ValueProvided);
        }

        if (r.IgnoreLease && r.Lease != 0)
        {
            throw new MvccException(MvccError.LeaseProvided);
        }
    }

    /// <summary>Checks every operation of both branches, then duplicate writes per branch.</summary>
    public static void CheckTxn(TxnRequest r)
    {
        CheckShape(r);
        CheckIntervals(r.Success);
        CheckIntervals(r.Failure);
    }

    private static void CheckShape(TxnRequest r)
    {
        foreach (var c in r.Compares)
        {
            if (c.Key.Length == 0)
            {
                throw new MvccException(MvccError.EmptyKey);
            }
            // Checked before anything is written, so that such a request in the log fails the
            // same way on every member instead of stopping each one that applies it.
            if (!Enum.IsDefined(c.Target) || !Enum.IsDefined(c.Result))
            {
                throw new MvccException(MvccError.InvalidCompare);
            }
        }

        foreach (var op in r.Success.Concat(r.Failure))
        {
            if (op.Range is { } range && range.Key.Length == 0 || op.DeleteRange is { } del && del.Key.Length == 0)
            {
                throw new MvccException(MvccError.EmptyKey);
            }

            if (op.Put is { } put)
            {
                CheckPut(put);
            }

            if (op.Txn is { } txn)
            {
                CheckShape(txn);
            }
        }
    }

    /// <summary>
    /// etcd's checkIntervals: a key may be put once per branch, and not inside a range deleted in
    /// the same branch; puts in the two branches of a nested transaction may repeat each other.
    /// Returns the keys put and the ranges deleted at this level and below.
    /// </summary>
    private static (HashSet<byte[]> Puts, List<(byte[] Begin, byte[]? End)> Dels) CheckIntervals(IReadOnlyList<RequestOp> ops)
    {
        var dels = new List<(byte[] Begin, byte[]? End)>();
        foreach (var op in ops)
        {
            if (op.DeleteRange is { } d)
            {
                dels.Add((d.Key, d.RangeEnd is { Length: > 0 } ? d.RangeEnd : null));
            }
        }

        var puts = new HashSet<byte[]>(ByteKeys.EqualityComparer);
        foreach (var op in ops)
        {
            if (op.Txn is not { } txn)
            {
                continue;
            }

            var (putsThen, delsThen) = CheckIntervals(txn.Success);
            var (putsElse, delsElse) = CheckIntervals(txn.Failure);
            foreach (var k in putsThen)
            {
                if (puts.Contains(k) || Intersects(dels, k))
                {
                    throw new MvccException(MvccError.DuplicateKey);
                }

                puts.Add(k);
            }

            foreach (var k in putsElse)
            {
                // A key put in both branches is fine: only one branch runs.
                if (puts.Contains(k) && !putsThen.Contains(k) || Intersects(dels, k))
                {
                    throw new MvccException(MvccError.DuplicateKey);
                }

                puts.Add(k);
            }

            dels.AddRange(delsThen);
            dels.AddRange(delsElse);
        }

        foreach (var op in ops)
        {
            if (op.Put is { } p)
            {
                if (puts.Contains(p.Key) || Intersects(dels, p.Key))
                {
                    throw new MvccException(MvccError.DuplicateKey);
                }

                puts.Add(p.Key);
            }
        }

        return (puts, dels);
    }

    /// <summary>
    /// Whether <paramref name="key"/> falls in a deleted interval. As etcd's string-affine intervals,
    /// the end is compared literally: an end of <c>"\0"</c> makes an empty interval here.
    /// </summary>
    private static bool Intersects(List<(byte[] Begin, byte[]? End)> dels, byte[] key)
    {
        foreach (var (begin, end) in dels)
        {
            if (end is null
                ? key.AsSpan().SequenceEqual(begin)
                : ByteKeys.Compare(key, begin) >= 0 && ByteKeys.Compare(key, end) < 0)
            {
                return true;
            }
        }

        return false;
    }
}
