namespace Ketch.Mvcc;

/// <summary>One record of the store's history: the key-value written at revision
/// (<paramref name="Main"/>, <paramref name="Sub"/>), or the tombstone a deletion left there.</summary>
/// <param name="Main">The revision of the write transaction.</param>
/// <param name="Sub">The position of the change inside the transaction.</param>
/// <param name="Kv">The key-value; for a tombstone only the key and the mod revision.</param>
public readonly record struct HistoryRecord(long Main, long Sub, KeyValue Kv)
{
    /// <summary>True when the record is the tombstone of a deletion.</summary>
    public bool IsTombstone => Kv.IsTombstone;
}
