using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Client;

/// <summary>Builds the requests of a transaction (and of single calls): Get, Put, Delete and nested Txn.</summary>
public static class Op
{
    /// <summary>A Range request.</summary>
    /// <param name="key">The key, or the start of the range.</param>
    /// <param name="options">Range options.</param>
    /// <returns>The request.</returns>
    public static RangeRequest GetRequest(ByteString key, GetOptions? options = null)
    {
        var o = options ?? new GetOptions();
        var request = new RangeRequest
        {
            Key = KeyRange.Start(key, o.Prefix, o.FromKey),
            Limit = o.Limit,
            Revision = o.Revision,
            SortOrder = o.SortOrder,
            SortTarget = o.SortTarget,
            Serializable = o.Serializable,
            KeysOnly = o.KeysOnly,
            CountOnly = o.CountOnly,
            MinModRevision = o.MinModRevision,
            MaxModRevision = o.MaxModRevision,
            MinCreateRevision = o.MinCreateRevision,
            MaxCreateRevision = o.MaxCreateRevision,
        };
        // A single key sends no range_end at all: an empty one that is sent means every key from
        // the key on, to etcd and to ketch (RangeRequest.range_end is optional in our .proto).
        var end = KeyRange.End(key, o.RangeEnd, o.Prefix, o.FromKey);
        if (!end.IsEmpty)
        {
            request.RangeEnd = end;
        }
        return request;
    }

    /// <summary>A Put request.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">Put options.</param>
    /// <returns>The request.</returns>
    public static PutRequest PutRequest(ByteString key, ByteString value, PutOptions? options = null)
    {
        var o = options ?? new PutOptions();
        return new PutRequest
        {
            Key = key,
            Value = value,
            Lease = o.Lease,
            PrevKv = o.PrevKv,
            IgnoreValue = o.IgnoreValue,
            IgnoreLease = o.IgnoreLease,
        };
    }

    /// <summary>A DeleteRange request.</summary>
    /// <param name="key">The key, or the start of the range.</param>
    /// <param name="options">Delete options.</param>
    /// <returns>The request.</returns>
    public static DeleteRangeRequest DeleteRequest(ByteString key, DeleteOptions? options = null)
    {
        var o = options ?? new DeleteOptions();
        return new DeleteRangeRequest
        {
            Key = KeyRange.Start(key, o.Prefix, o.FromKey),
            RangeEnd = KeyRange.End(key, o.RangeEnd, o.Prefix, o.FromKey),
            PrevKv = o.PrevKv,
        };
    }

    /// <summary>A Get inside a transaction.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="options">Range options.</param>
    /// <returns>The operation.</returns>
    public static RequestOp Get(string key, GetOptions? options = null) => Get(KeyRange.Utf8(key), options);

    /// <summary>A Get inside a transaction.</summary>
    /// <param name="key">The key.</param>
    /// <param name="options">Range options.</param>
    /// <returns>The operation.</returns>
    public static RequestOp Get(ByteString key, GetOptions? options = null) =>
        new() { RequestRange = GetRequest(key, options) };

    /// <summary>A Put inside a transaction.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="value">The value (UTF-8).</param>
    /// <param name="options">Put options.</param>
    /// <returns>The operation.</returns>
    public static RequestOp Put(string key, string value, PutOptions? options = null) =>
        Put(KeyRange.Utf8(key), KeyRange.Utf8(value), options);

    /// <summary>A Put inside a transaction.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">Put options.</param>
    /// <returns>The operation.</returns>
    public static RequestOp Put(ByteString key, ByteString value, PutOptions? options = null) =>
        new() { RequestPut = PutRequest(key, value, options) };

    /// <summary>A Delete inside a transaction.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="options">Delete options.</param>
    /// <returns>The operation.</returns>
    public static RequestOp Delete(string key, DeleteOptions? options = null) => Delete(KeyRange.Utf8(key), options);

    /// <summary>A Delete inside a transaction.</summary>
    /// <param name="key">The key.</param>
    /// <param name="options">Delete options.</param>
    /// <returns>The operation.</returns>
    public static RequestOp Delete(ByteString key, DeleteOptions? options = null) =>
        new() { RequestDeleteRange = DeleteRequest(key, options) };

    /// <summary>A nested transaction.</summary>
    /// <param name="txn">The transaction request.</param>
    /// <returns>The operation.</returns>
    public static RequestOp Txn(TxnRequest txn) => new() { RequestTxn = txn };
}
