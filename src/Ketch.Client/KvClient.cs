using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Client;

/// <summary>The KV service: Range, Put, DeleteRange, Txn and Compact.
/// Reads are retried on another endpoint after <c>Unavailable</c>; writes only when they never reached a server.</summary>
public sealed class KvClient
{
    private readonly Connection _conn;

    internal KvClient(Connection conn) => _conn = conn;

    /// <summary>Reads a key or a range.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="options">Range options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<RangeResponse> GetAsync(string key, GetOptions? options = null, CancellationToken cancellationToken = default) =>
        GetAsync(KeyRange.Utf8(key), options, cancellationToken);

    /// <summary>Reads a key or a range.</summary>
    /// <param name="key">The key.</param>
    /// <param name="options">Range options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<RangeResponse> GetAsync(ByteString key, GetOptions? options = null, CancellationToken cancellationToken = default) =>
        RangeAsync(Op.GetRequest(key, options), cancellationToken);

    /// <summary>Sends a Range request as it is.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => new KV.KVClient(ci).RangeAsync(request, o), Retry.Safe, cancellationToken);

    /// <summary>Writes a key.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="value">The value (UTF-8).</param>
    /// <param name="options">Put options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<PutResponse> PutAsync(string key, string value, PutOptions? options = null, CancellationToken cancellationToken = default) =>
        PutAsync(KeyRange.Utf8(key), KeyRange.Utf8(value), options, cancellationToken);

    /// <summary>Writes a key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">Put options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<PutResponse> PutAsync(ByteString key, ByteString value, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = Op.PutRequest(key, value, options);
        return _conn.UnaryAsync((ci, o) => new KV.KVClient(ci).PutAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    /// <summary>Deletes a key or a range.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="options">Delete options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<DeleteRangeResponse> DeleteAsync(string key, DeleteOptions? options = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(KeyRange.Utf8(key), options, cancellationToken);

    /// <summary>Deletes a key or a range.</summary>
    /// <param name="key">The key.</param>
    /// <param name="options">Delete options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<DeleteRangeResponse> DeleteAsync(ByteString key, DeleteOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = Op.DeleteRequest(key, options);
        return _conn.UnaryAsync((ci, o) => new KV.KVClient(ci).DeleteRangeAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    /// <summary>Sends a Put request as it is (never retried once it may have reached a server).</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<PutResponse> PutAsync(PutRequest request, CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => new KV.KVClient(ci).PutAsync(request, o), Retry.IfNotSent, cancellationToken);

    /// <summary>Sends a DeleteRange request as it is (never retried once it may have reached a server).</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => new KV.KVClient(ci).DeleteRangeAsync(request, o), Retry.IfNotSent, cancellationToken);

    /// <summary>Starts a transaction.</summary>
    /// <returns>A builder bound to this client.</returns>
    public Txn Txn() => new(this);

    /// <summary>Sends a transaction request. Read-only transactions are retried like reads.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => new KV.KVClient(ci).TxnAsync(request, o),
            IsReadOnly(request) ? Retry.Safe : Retry.IfNotSent, cancellationToken);

    /// <summary>Compacts the key-value history up to <paramref name="revision"/>.</summary>
    /// <param name="revision">Revisions below this one are discarded.</param>
    /// <param name="physical">Wait until the compaction is physically applied.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<CompactionResponse> CompactAsync(long revision, bool physical = false, CancellationToken cancellationToken = default)
    {
        var request = new CompactionRequest { Revision = revision, Physical = physical };
        return _conn.UnaryAsync((ci, o) => new KV.KVClient(ci).CompactAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    private static bool IsReadOnly(TxnRequest t) =>
        t.Success.Concat(t.Failure).All(op => op.RequestCase switch
        {
            RequestOp.RequestOneofCase.RequestRange => true,
            RequestOp.RequestOneofCase.RequestTxn => IsReadOnly(op.RequestTxn),
            _ => false,
        });
}
