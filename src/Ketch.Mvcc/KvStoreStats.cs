namespace Ketch.Mvcc;

/// <summary>
/// What a store has done since it was opened, for a member's metrics: etcd's mvcc series
/// (<c>etcd_mvcc_range_total</c>, <c>etcd_mvcc_put_total</c>, ... and their
/// <c>etcd_debugging_mvcc_</c> twins) are counted where the operations run, so a range inside a
/// transaction counts as a range and a put inside one as a put, as etcd's metered transactions do.
/// Counters only grow; the gauges (live keys, watchers) are on <see cref="KvStore"/>.
/// </summary>
public sealed class KvStoreStats
{
    private long _ranges;
    private long _puts;
    private long _putBytes;
    private long _deletes;
    private long _txns;
    private long _compactedRevisions;
    private long _eventsDelivered;

    /// <summary>Range operations served, top-level or inside a transaction, and the compares of
    /// transactions (each reads its key range).</summary>
    public long Ranges => Interlocked.Read(ref _ranges);

    /// <summary>Put operations applied, top-level or inside a transaction.</summary>
    public long Puts => Interlocked.Read(ref _puts);

    /// <summary>Key plus value bytes of the puts applied (etcd's total put size).</summary>
    public long PutBytes => Interlocked.Read(ref _putBytes);

    /// <summary>Delete-range operations applied (one per operation, whatever it deleted).</summary>
    public long Deletes => Interlocked.Read(ref _deletes);

    /// <summary>Store transactions that ran more than one operation, as etcd meters them (a lone put,
    /// delete or range is none; see <c>KvStore.CountTxn</c>).</summary>
    public long Txns => Interlocked.Read(ref _txns);

    /// <summary>Revisions removed from the backend by compactions.</summary>
    public long CompactedRevisions => Interlocked.Read(ref _compactedRevisions);

    /// <summary>Watch events handed to watchers' readers.</summary>
    public long EventsDelivered => Interlocked.Read(ref _eventsDelivered);

    internal void Range() => Interlocked.Increment(ref _ranges);

    internal void Put(int keyBytes, int valueBytes)
    {
        Interlocked.Increment(ref _puts);
        Interlocked.Add(ref _putBytes, keyBytes + valueBytes);
    }

    internal void Delete() => Interlocked.Increment(ref _deletes);

    internal void Txn() => Interlocked.Increment(ref _txns);

    internal void Compacted(long revisions) => Interlocked.Add(ref _compactedRevisions, revisions);

    internal void Delivered(int events)
    {
        if (events > 0)
        {
            Interlocked.Add(ref _eventsDelivered, events);
        }
    }
}
