namespace Ketch.Mvcc;

/// <summary>The answer to a <see cref="TxnRequest"/>.</summary>
public sealed class TxnResponse
{
    /// <summary>The store's revision after the transaction (the header revision).</summary>
    public long Revision { get; init; }

    /// <summary>True when every compare held and the success branch ran.</summary>
    public bool Succeeded { get; init; }

    /// <summary>The answers of the branch that ran, in order.</summary>
    public IReadOnlyList<ResponseOp> Responses { get; init; } = [];
}
