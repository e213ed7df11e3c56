namespace Ketch.Mvcc;

/// <summary>One operation of a transaction branch: exactly one property is set (etcd's <c>RequestOp</c>).</summary>
public sealed class RequestOp
{
    /// <summary>A range.</summary>
    public RangeRequest? Range { get; init; }

    /// <summary>A put.</summary>
    public PutRequest? Put { get; init; }

    /// <summary>A delete.</summary>
    public DeleteRangeRequest? DeleteRange { get; init; }

    /// <summary>A nested transaction.</summary>
    public TxnRequest? Txn { get; init; }
}
