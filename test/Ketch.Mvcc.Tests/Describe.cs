using System.Text;

namespace Ketch.Mvcc.Tests;

/// <summary>Stable text forms of responses, so model and store answers compare as strings.</summary>
internal static class Describe
{
    public static string Kv(KeyValue? kv) => kv is null
        ? "-"
        : $"{Stores.S(kv.Key)}:c{kv.CreateRevision}/m{kv.ModRevision}/v{kv.Version}/l{kv.Lease}/'{Stores.S(kv.Value)}'";

    public static string Range(RangeResponse r) =>
        $"R(rev={r.Revision} count={r.Count} more={r.More} [{string.Join(" ", r.Kvs.Select(Kv))}])";

    public static string Put(PutResponse r) => $"P(rev={r.Revision} prev={Kv(r.PrevKv)})";

    public static string Delete(DeleteRangeResponse r) =>
        $"D(rev={r.Revision} deleted={r.Deleted} [{string.Join(" ", r.PrevKvs.Select(Kv))}])";

    public static string Txn(TxnResponse r)
    {
        var sb = new StringBuilder($"T(rev={r.Revision} ok={r.Succeeded} [");
        foreach (var op in r.Responses)
        {
            sb.Append(op.Range is { } rr ? Range(rr)
                : op.Put is { } p ? Put(p)
                : op.DeleteRange is { } d ? Delete(d)
                : Txn(op.Txn!));
            sb.Append(' ');
        }

        return sb.Append("])").ToString();
    }

    public static string Events(WatchResponse r) =>
        string.Join(" ", r.Events.Select(e => $"{e.Type}:{Kv(e.Kv)}<{Kv(e.PrevKv)}>"));
}
