namespace Ketch.Mvcc;

/// <summary>A transaction: if all compares hold run success, else failure (etcd's <c>TxnRequest</c>).</summary>
public sealed class TxnRequest
{
    /// <summary>The guards, all of which must hold.</summary>
    public IReadOnlyList<Compare> Compares { get; init; } = [];

    /// <summary>Operations run when every compare holds.</summary>
    public IReadOnlyList<RequestOp> Success { get; init; } = [];

    /// <summary>Operations run otherwise.</summary>
    public IReadOnlyList<RequestOp> Failure { get; init; } = [];
}
