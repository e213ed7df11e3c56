using Ketch.Api.Etcdserverpb;

namespace Ketch.Client;

/// <summary>A transaction builder: <c>kv.Txn().If(...).Then(...).Else(...).CommitAsync()</c>.
/// As in etcd's clientv3, each of If, Then and Else may be called once, in that order.</summary>
public sealed class Txn
{
    private readonly KvClient? _kv;
    private readonly TxnRequest _request = new();
    private int _stage;

    internal Txn(KvClient? kv) => _kv = kv;

    /// <summary>A builder that is not bound to a client (for nested transactions).</summary>
    /// <returns>A new builder.</returns>
    public static Txn Create() => new(null);

    /// <summary>Adds the guards; all must hold for the Then branch.</summary>
    /// <param name="compares">The comparisons.</param>
    /// <returns>This builder.</returns>
    public Txn If(params Compare[] compares)
    {
        Advance(1, "If");
        _request.Compare.AddRange(compares);
        return this;
    }

    /// <summary>Operations run when every guard holds.</summary>
    /// <param name="ops">The operations.</param>
    /// <returns>This builder.</returns>
    public Txn Then(params RequestOp[] ops)
    {
        Advance(2, "Then");
        _request.Success.AddRange(ops);
        return this;
    }

    /// <summary>Operations run when a guard fails.</summary>
    /// <param name="ops">The operations.</param>
    /// <returns>This builder.</returns>
    public Txn Else(params RequestOp[] ops)
    {
        Advance(3, "Else");
        _request.Failure.AddRange(ops);
        return this;
    }

    /// <summary>The request built so far.</summary>
    /// <returns>A copy of the request.</returns>
    public TxnRequest ToRequest() => _request.Clone();

    /// <summary>Sends the transaction. Never retried after it may have reached a server.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<TxnResponse> CommitAsync(CancellationToken cancellationToken = default) =>
        (_kv ?? throw new InvalidOperationException("this transaction is not bound to a client"))
            .TxnAsync(_request.Clone(), cancellationToken);

    private void Advance(int stage, string name)
    {
        if (_stage >= stage)
        {
            throw new InvalidOperationException($"Txn.{name} called out of order or twice");
        }
        _stage = stage;
    }
}
