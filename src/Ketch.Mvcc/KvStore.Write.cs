using Ketch.Mvcc.Index;

namespace Ketch.Mvcc;

public sealed partial class KvStore
{
    // The write transaction in progress (under the lock): its revision and next sub-revision.
    private long _writeMain;
    private long _writeSub;

    // Compares evaluated by the transaction in progress (under the lock), for its txn count.
    private int _comparesEvaluated;

    /// <summary>The latest revision visible inside the write transaction: its own once it wrote.</summary>
    private long RevInTxn => _writeSub > 0 ? _writeMain : _writeMain - 1;

    /// <summary>Puts one key: one new revision.</summary>
    /// <exception cref="MvccException">Empty key, ignore_value/ignore_lease misuse or missing key.</exception>
    public PutResponse Put(PutRequest request)
    {
        TxnValidator.CheckPut(request);
        lock (_lock)
        {
            ThrowIfClosed();
            CheckPutTarget(request);
            BeginWrite();
            var response = PutCore(request);
            EndWrite();
            return response;
        }
    }

    /// <summary>Deletes a key or range: one new revision if anything was deleted, none otherwise.</summary>
    /// <exception cref="MvccException">Empty key.</exception>
    public DeleteRangeResponse DeleteRange(DeleteRangeRequest request)
    {
        if (request.Key.Length == 0)
        {
            throw new MvccException(MvccError.EmptyKey);
        }

        lock (_lock)
        {
            ThrowIfClosed();
            BeginWrite();
            var response = DeleteCore(request);
            EndWrite();
            return response;
        }
    }

    /// <summary>
    /// Runs a transaction atomically as one revision (none if it writes nothing). As etcd, every
    /// compare, nested ones included, is evaluated against the state before the transaction; the
    /// operations then run in order and later reads see earlier writes.
    /// </summary>
    /// <exception cref="MvccException">Duplicate key, revision errors of its ranges, put checks.</exception>
    public TxnResponse Txn(TxnRequest request) => Txn(request, null);

    /// <summary>
    /// <see cref="Txn(TxnRequest)"/>, with the leases of the puts that run checked.
    /// </summary>
    /// <param name="request">The transaction.</param>
    /// <param name="leaseExists">Whether a lease exists, for the puts of the branches that run
    /// (etcd checks only those: a put with a missing lease in a branch not taken is no error).
    /// Null: leases are not checked.</param>
    /// <exception cref="MvccException">Duplicate key, revision errors of its ranges, put checks.</exception>
    public TxnResponse Txn(TxnRequest request, Func<long, bool>? leaseExists)
    {
        TxnValidator.CheckTxn(request);
        lock (_lock)
        {
            ThrowIfClosed();
            var path = new List<bool>();
            _comparesEvaluated = 0;
            ComputePath(request, path);
            var i = 0;
            CheckBranch(request, path, ref i, leaseExists);

            BeginWrite();
            i = 0;
            var response = ExecuteTxn(request, path, ref i);
            CountTxn(request, response);
            EndWrite();
            return new TxnResponse { Revision = _currentRev, Succeeded = response.Succeeded, Responses = response.Responses };
        }
    }

    private void BeginWrite()
    {
        _recoveredLeases = null; // no longer what the keys carry
        _writeMain = _currentRev + 1;
        _writeSub = 0;
    }

    private void EndWrite()
    {
        if (_writeSub > 0)
        {
            _currentRev = _writeMain;
            _hub.Notify(_currentRev, _changes);
            _changes.Clear();
            if (_backend.PendingOps >= _options.BatchLimit)
            {
                CommitFull();
            }
        }

        _writeSub = 0;
    }

    /// <summary>etcd's checkRequestPut: ignore_value and ignore_lease need an existing key.</summary>
    private void CheckPutTarget(PutRequest r)
    {
        if ((r.IgnoreValue || r.IgnoreLease)
            && !(_index.Find(r.Key) is { } ki && ki.TryGet(_currentRev, out _, out _, out _)))
        {
            throw new MvccException(MvccError.KeyNotFound);
        }
    }

    private PutResponse PutCore(PutRequest r)
    {
        var main = _writeMain;
        var ki = _index.Find(r.Key);
        Revision mod = default, created = default;
        long version = 0;
        var live = ki is not null && ki.TryGet(main, out mod, out created, out version);
        var prev = live && (r.PrevKv || r.IgnoreValue || r.IgnoreLease || _hub.NeedPrevKv) ? Fetch(mod, keysOnly: false) : null;

        // etcd would panic on ignore_value for a key deleted earlier in the same transaction
        // (possible only through a "\0"-ended delete); we keep an empty value and no lease.
        var kv = new KeyValue
        {
            Key = ki?.Key ?? r.Key,
            CreateRevision = live ? created.Main : main,
            ModRevision = main,
            Version = live ? version + 1 : 1,
            Value = r.IgnoreValue ? prev?.Value ?? [] : r.Value,
            Lease = r.IgnoreLease ? prev?.Lease ?? 0 : r.Lease,
        };
        var rev = new Revision(main, _writeSub++);
        (ki ?? _index.GetOrAdd(r.Key)).Put(rev);
        _backend.PutRevision(rev, kv);
        Stats.Put(kv.Key.Length, kv.Value.Length);
        if (!live)
        {
            _liveKeys++;
        }
        if (!_hub.IsEmpty)
        {
            _changes.Add(new WatchEvent { Type = WatchEventType.Put, Kv = kv, PrevKv = prev });
        }

        return new PutResponse { Revision = main, PrevKv = r.PrevKv ? prev : null };
    }

    private DeleteRangeResponse DeleteCore(DeleteRangeRequest r)
    {
        var main = _writeMain;
        long deleted = 0;
        var prevKvs = r.PrevKv ? new List<KeyValue>() : null;
        foreach (var ki in _index.Range(r.Key, r.RangeEnd))
        {
            if (!ki.TryGet(main, out var mod, out _, out _))
            {
                continue;
            }

            var prev = r.PrevKv || _hub.NeedPrevKv ? Fetch(mod, keysOnly: false) : null;
            var rev = new Revision(main, _writeSub++);
            ki.Tombstone(rev);

            // As etcd, a deletion's key-value carries only the key and the deletion's revision.
            var tombstone = new KeyValue { Key = ki.Key, ModRevision = main };
            _backend.PutRevision(rev, tombstone);
            deleted++;
            _liveKeys--;
            prevKvs?.Add(prev!);
            if (!_hub.IsEmpty)
            {
                _changes.Add(new WatchEvent { Type = WatchEventType.Delete, Kv = tombstone, PrevKv = prev });
            }
        }

        Stats.Delete();
        return new DeleteRangeResponse { Revision = RevInTxn, Deleted = deleted, PrevKvs = prevKvs ?? [] };
    }

    /// <summary>
    /// etcd meters its store transactions and counts one as a txn when more than one operation ran
    /// in it (measured on etcd 3.4.23; see KvStoreStatsTests). A read-only request runs its compares
    /// and operations in one read transaction; a request that may write runs its compares in a read
    /// transaction and its operations in a write transaction, each counted on its own.
    /// </summary>
    private void CountTxn(TxnRequest request, TxnResponse response)
    {
        var ops = ExecutedOps(response);
        var compares = _comparesEvaluated;
        _comparesEvaluated = 0;
        if (!MayWrite(request))
        {
            if (compares + ops > 1)
            {
                Stats.Txn();
            }
            return;
        }
        if (compares > 1)
        {
            Stats.Txn();
        }
        if (ops > 1)
        {
            Stats.Txn();
        }
    }

    private static int ExecutedOps(TxnResponse r)
    {
        var n = 0;
        foreach (var op in r.Responses)
        {
            n += op.Txn is { } nested ? ExecutedOps(nested) : 1;
        }
        return n;
    }

    private static bool MayWrite(TxnRequest r) => MayWrite(r.Success) || MayWrite(r.Failure);

    private static bool MayWrite(IReadOnlyList<RequestOp> ops)
    {
        foreach (var op in ops)
        {
            if (op.Put is not null || op.DeleteRange is not null || (op.Txn is { } nested && MayWrite(nested)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>etcd's compareToPath: the outcome of this transaction's compares, then of the nested
    /// transactions of the branch taken, in order, all against the state before the transaction.</summary>
    private void ComputePath(TxnRequest r, List<bool> path)
    {
        var ok = r.Compares.All(c => EvaluateCompare(c, _currentRev));
        path.Add(ok);
        foreach (var op in ok ? r.Success : r.Failure)
        {
            if (op.Txn is { } nested)
            {
                ComputePath(nested, path);
            }
        }
    }

    /// <summary>etcd's checkRequests over the branches taken: range revisions and put targets.</summary>
    private void CheckBranch(TxnRequest r, List<bool> path, ref int i, Func<long, bool>? leaseExists)
    {
        var ok = path[i++];
        foreach (var op in ok ? r.Success : r.Failure)
        {
            if (op.Txn is { } nested)
            {
                CheckBranch(nested, path, ref i, leaseExists);
            }
            else if (op.Range is { } range)
            {
                CheckRangeRevision(range.Revision, _currentRev);
            }
            else if (op.Put is { } put)
            {
                CheckPutTarget(put);
                if (put.Lease != 0 && leaseExists is not null && !leaseExists(put.Lease))
                {
                    throw new MvccException(MvccError.LeaseNotFound);
                }
            }
        }
    }

    private TxnResponse ExecuteTxn(TxnRequest r, List<bool> path, ref int i)
    {
        var ok = path[i++];
        var ops = ok ? r.Success : r.Failure;
        var responses = new List<ResponseOp>(ops.Count);
        foreach (var op in ops)
        {
            if (op.Range is { } range)
            {
                responses.Add(new ResponseOp { Range = RangeAt(range, RevInTxn) });
            }
            else if (op.Put is { } put)
            {
                responses.Add(new ResponseOp { Put = PutCore(put) });
            }
            else if (op.DeleteRange is { } del)
            {
                responses.Add(new ResponseOp { DeleteRange = DeleteCore(del) });
            }
            else if (op.Txn is { } nested)
            {
                responses.Add(new ResponseOp { Txn = ExecuteTxn(nested, path, ref i) });
            }
        }

        return new TxnResponse { Revision = RevInTxn, Succeeded = ok, Responses = responses };
    }

    /// <summary>etcd's applyCompare: every key of the range must satisfy the compare; with no key,
    /// a value compare fails and the others compare against zeros.</summary>
    private bool EvaluateCompare(Compare c, long rev)
    {
        Stats.Range(); // etcd reads each compared key through a range
        _comparesEvaluated++;
        var any = false;
        foreach (var ki in _index.Range(c.Key, c.RangeEnd))
        {
            if (!ki.TryGet(rev, out var mod, out var created, out var version))
            {
                continue;
            }

            any = true;
            var kv = c.Target is CompareTarget.Value or CompareTarget.Lease ? Fetch(mod, keysOnly: false) : null;
            if (!CompareOne(c, version, created.Main, mod.Main, kv?.Lease ?? 0, kv?.Value ?? []))
            {
                return false;
            }
        }

        return any || c.Target != CompareTarget.Value && CompareOne(c, 0, 0, 0, 0, []);
    }

    private static bool CompareOne(Compare c, long version, long create, long mod, long lease, byte[] value)
    {
        var result = c.Target switch
        {
            CompareTarget.Version => version.CompareTo(c.Number),
            CompareTarget.Create => create.CompareTo(c.Number),
            CompareTarget.Mod => mod.CompareTo(c.Number),
            CompareTarget.Lease => lease.CompareTo(c.Number),
            CompareTarget.Value => ByteKeys.Compare(value, c.Value),
            _ => throw new ArgumentOutOfRangeException(nameof(c), c.Target, "unknown compare target"),
        };
        return c.Result switch
        {
            CompareResult.Equal => result == 0,
            CompareResult.NotEqual => result != 0,
            CompareResult.Greater => result > 0,
            CompareResult.Less => result < 0,
            _ => throw new ArgumentOutOfRangeException(nameof(c), c.Result, "unknown compare result"),
        };
    }
}
