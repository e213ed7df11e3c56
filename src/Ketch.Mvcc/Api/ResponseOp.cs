namespace Ketch.Mvcc;

/// <summary>The answer to one <see cref="RequestOp"/>: the property matching the request is set.</summary>
public sealed class ResponseOp
{
    /// <summary>The answer to a range.</summary>
    public RangeResponse? Range { get; init; }

    /// <summary>The answer to a put.</summary>
    public PutResponse? Put { get; init; }

    /// <summary>The answer to a delete.</summary>
    public DeleteRangeResponse? DeleteRange { get; init; }

    /// <summary>The answer to a nested transaction.</summary>
    public TxnResponse? Txn { get; init; }
}
