using Google.Protobuf;
using Ketch.Mvcc;
using Rpc = Ketch.Api.Etcdserverpb;
using Pbv = Ketch.Api.Mvccpb;

namespace Ketch.Server.Apply;

/// <summary>Maps etcd's protobuf requests to the MVCC store's types and its answers back.
/// Byte arrays from the store are immutable, so they are wrapped, not copied.</summary>
internal static class ProtoConvert
{
    public static byte[]? RangeEnd(ByteString end) => end.IsEmpty ? null : end.ToByteArray();

    /// <summary>
    /// The array under a ByteString that a parser made: it owns an array of exactly its length that
    /// nothing changes, so the store may keep it without a second copy (a put's value was copied
    /// twice on its way to the store, once per member). Anything else is copied.
    /// </summary>
    public static byte[] Owned(ByteString bytes) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes.Memory, out var segment)
            && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : bytes.ToByteArray();

    private static readonly ByteString s_fromKey = ByteString.CopyFrom(0);

    /// <summary>The end of a range read as etcd reads it: a range_end sent empty (protobufjs sends
    /// one; etcd's decoder keeps it present and empty) is every key from the key on, like "\0"; one
    /// not sent is the key alone. The permission checks and the read must both use this.</summary>
    public static ByteString RangeEndOf(Rpc.RangeRequest r) => r.HasRangeEnd && r.RangeEnd.IsEmpty ? s_fromKey : r.RangeEnd;

    public static RangeRequest ToMvcc(Rpc.RangeRequest r) => new()
    {
        Key = r.Key.ToByteArray(),
        RangeEnd = RangeEnd(RangeEndOf(r)),
        Limit = r.Limit,
        Revision = r.Revision,
        SortOrder = (SortOrder)r.SortOrder,
        SortTarget = (SortTarget)r.SortTarget,
        KeysOnly = r.KeysOnly,
        CountOnly = r.CountOnly,
        MinModRevision = r.MinModRevision,
        MaxModRevision = r.MaxModRevision,
        MinCreateRevision = r.MinCreateRevision,
        MaxCreateRevision = r.MaxCreateRevision,
    };

    public static PutRequest ToMvcc(Rpc.PutRequest r) => new()
    {
        Key = Owned(r.Key),
        Value = Owned(r.Value),
        Lease = r.Lease,
        PrevKv = r.PrevKv,
        IgnoreValue = r.IgnoreValue,
        IgnoreLease = r.IgnoreLease,
    };

    /// <param name="r">The request.</param>
    /// <param name="forcePrevKv">Ask the store for the deleted key-values even if the client did not
    /// (the applier needs the deleted keys; <see cref="StripPrevKvs"/> removes them again).</param>
    public static DeleteRangeRequest ToMvcc(Rpc.DeleteRangeRequest r, bool forcePrevKv = false) => new()
    {
        Key = r.Key.ToByteArray(),
        RangeEnd = RangeEnd(r.RangeEnd),
        PrevKv = r.PrevKv || forcePrevKv,
    };

    public static TxnRequest ToMvcc(Rpc.TxnRequest r, bool forcePrevKv = false) => new()
    {
        Compares = r.Compare.Select(ToMvcc).ToArray(),
        Success = r.Success.Select(op => ToMvcc(op, forcePrevKv)).ToArray(),
        Failure = r.Failure.Select(op => ToMvcc(op, forcePrevKv)).ToArray(),
    };

    /// <summary>Removes the prev_kvs of deletes whose request did not ask for them.</summary>
    public static void StripPrevKvs(Rpc.TxnRequest request, Rpc.TxnResponse response)
    {
        var ops = response.Succeeded ? request.Success : request.Failure;
        for (var i = 0; i < ops.Count && i < response.Responses.Count; i++)
        {
            var op = ops[i];
            var resp = response.Responses[i];
            if (op.RequestCase == Rpc.RequestOp.RequestOneofCase.RequestDeleteRange && !op.RequestDeleteRange.PrevKv && resp.ResponseDeleteRange is not null)
            {
                resp.ResponseDeleteRange.PrevKvs.Clear();
            }
            else if (op.RequestCase == Rpc.RequestOp.RequestOneofCase.RequestTxn && resp.ResponseTxn is not null)
            {
                StripPrevKvs(op.RequestTxn, resp.ResponseTxn);
            }
        }
    }

    private static Compare ToMvcc(Rpc.Compare c) => new()
    {
        Key = c.Key.ToByteArray(),
        RangeEnd = RangeEnd(c.RangeEnd),
        Target = (CompareTarget)c.Target,
        Result = (CompareResult)c.Result,
        Number = c.TargetUnionCase switch
        {
            Rpc.Compare.TargetUnionOneofCase.Version => c.Version,
            Rpc.Compare.TargetUnionOneofCase.CreateRevision => c.CreateRevision,
            Rpc.Compare.TargetUnionOneofCase.ModRevision => c.ModRevision,
            Rpc.Compare.TargetUnionOneofCase.Lease => c.Lease,
            _ => 0,
        },
        Value = c.TargetUnionCase == Rpc.Compare.TargetUnionOneofCase.Value ? c.Value.ToByteArray() : [],
    };

    private static RequestOp ToMvcc(Rpc.RequestOp op, bool forcePrevKv) => op.RequestCase switch
    {
        Rpc.RequestOp.RequestOneofCase.RequestRange => new RequestOp { Range = ToMvcc(op.RequestRange) },
        Rpc.RequestOp.RequestOneofCase.RequestPut => new RequestOp { Put = ToMvcc(op.RequestPut) },
        Rpc.RequestOp.RequestOneofCase.RequestDeleteRange => new RequestOp { DeleteRange = ToMvcc(op.RequestDeleteRange, forcePrevKv) },
        Rpc.RequestOp.RequestOneofCase.RequestTxn => new RequestOp { Txn = ToMvcc(op.RequestTxn, forcePrevKv) },
        _ => new RequestOp { Txn = new TxnRequest() },
    };

    public static Pbv.KeyValue ToProto(KeyValue kv) => new()
    {
        Key = UnsafeByteOperations.UnsafeWrap(kv.Key),
        Value = UnsafeByteOperations.UnsafeWrap(kv.Value),
        CreateRevision = kv.CreateRevision,
        ModRevision = kv.ModRevision,
        Version = kv.Version,
        Lease = kv.Lease,
    };

    public static Rpc.RangeResponse ToProto(RangeResponse r)
    {
        var resp = new Rpc.RangeResponse { More = r.More, Count = r.Count, Header = new Rpc.ResponseHeader { Revision = r.Revision } };
        foreach (var kv in r.Kvs)
        {
            resp.Kvs.Add(ToProto(kv));
        }
        return resp;
    }

    public static Rpc.PutResponse ToProto(PutResponse r) => new()
    {
        Header = new Rpc.ResponseHeader { Revision = r.Revision },
        PrevKv = r.PrevKv is null ? null : ToProto(r.PrevKv),
    };

    public static Rpc.DeleteRangeResponse ToProto(DeleteRangeResponse r)
    {
        var resp = new Rpc.DeleteRangeResponse { Deleted = r.Deleted, Header = new Rpc.ResponseHeader { Revision = r.Revision } };
        foreach (var kv in r.PrevKvs)
        {
            resp.PrevKvs.Add(ToProto(kv));
        }
        return resp;
    }

    private static Rpc.TxnResponse Nested(Rpc.TxnResponse r)
    {
        r.Header = new Rpc.ResponseHeader();
        return r;
    }

    public static Rpc.TxnResponse ToProto(TxnResponse r)
    {
        var resp = new Rpc.TxnResponse { Succeeded = r.Succeeded, Header = new Rpc.ResponseHeader { Revision = r.Revision } };
        foreach (var op in r.Responses)
        {
            resp.Responses.Add(op switch
            {
                { Range: { } x } => new Rpc.ResponseOp { ResponseRange = ToProto(x) },
                { Put: { } x } => new Rpc.ResponseOp { ResponsePut = ToProto(x) },
                { DeleteRange: { } x } => new Rpc.ResponseOp { ResponseDeleteRange = ToProto(x) },
                // etcd fills in only the outer txn's header: a nested one's carries no revision.
                { Txn: { } x } => new Rpc.ResponseOp { ResponseTxn = Nested(ToProto(x)) },
                _ => new Rpc.ResponseOp(),
            });
        }
        return resp;
    }

    public static Pbv.Event ToProto(WatchEvent e) => new()
    {
        Type = e.Type == WatchEventType.Put ? Pbv.Event.Types.EventType.Put : Pbv.Event.Types.EventType.Delete,
        Kv = ToProto(e.Kv),
        PrevKv = e.PrevKv is null ? null : ToProto(e.PrevKv),
    };
}
