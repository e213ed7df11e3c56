using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using MvccException = Ketch.Mvcc.MvccException;
using Ketch.Server.Apply;

namespace Ketch.Server.Api;

/// <summary>etcd's KV service: writes go through Raft, reads are linearizable (read index) unless
/// <c>serializable</c>, and read-only transactions are served like reads.</summary>
internal sealed class KvService(MemberContext member) : KV.KVBase
{
    public override Task<RangeResponse> Range(RangeRequest request, ServerCallContext context) =>
        RangeAsync(member, request, context.CancellationToken);

    internal static async Task<RangeResponse> RangeAsync(MemberContext member, RangeRequest request, CancellationToken ct)
    {
        member.CheckSize(request);
        CheckRange(request);
        if (!request.Serializable)
        {
            await member.Loop.WaitLinearizableAsync(ct).ConfigureAwait(false);
        }
        try
        {
            var resp = ProtoConvert.ToProto(await member.ReadAsync(static (kv, r) => kv.Range(r), ProtoConvert.ToMvcc(request), ct).ConfigureAwait(false));
            member.FillHeader(resp.Header);
            return resp;
        }
        catch (MvccException e)
        {
            throw EtcdErrors.From(e);
        }
    }

    public override Task<PutResponse> Put(PutRequest request, ServerCallContext context) =>
        PutAsync(member, request, context.CancellationToken);

    internal static async Task<PutResponse> PutAsync(MemberContext member, PutRequest request, CancellationToken ct)
    {
        member.CheckSize(request);
        if (request.Key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey;
        }
        member.CheckQuota(request);
        var resp = await member.ProposeAsync<PutResponse>(RaftRequestKind.Put, request, ct).ConfigureAwait(false);
        member.FillHeader(resp.Header);
        return resp;
    }

    public override Task<DeleteRangeResponse> DeleteRange(DeleteRangeRequest request, ServerCallContext context) =>
        DeleteRangeAsync(member, request, context.CancellationToken);

    internal static async Task<DeleteRangeResponse> DeleteRangeAsync(MemberContext member, DeleteRangeRequest request, CancellationToken ct)
    {
        member.CheckSize(request);
        if (request.Key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey;
        }
        var resp = await member.ProposeAsync<DeleteRangeResponse>(RaftRequestKind.DeleteRange, request, ct).ConfigureAwait(false);
        member.FillHeader(resp.Header);
        return resp;
    }

    public override Task<TxnResponse> Txn(TxnRequest request, ServerCallContext context) =>
        TxnAsync(member, request, context.CancellationToken);

    internal static async Task<TxnResponse> TxnAsync(MemberContext member, TxnRequest request, CancellationToken ct)
    {
        member.CheckSize(request);
        CheckTxn(member, request);
        if (IsReadOnly(request))
        {
            var serializable = request.Success.Concat(request.Failure).All(op => op.RequestRange?.Serializable == true)
                && (request.Success.Count + request.Failure.Count) > 0;
            if (!serializable)
            {
                await member.Loop.WaitLinearizableAsync(ct).ConfigureAwait(false);
            }
            try
            {
                var local = ProtoConvert.ToProto(await member.ReadAsync(static (kv, r) => kv.Txn(r), ProtoConvert.ToMvcc(request), ct).ConfigureAwait(false));
                member.FillHeader(local.Header);
                return local;
            }
            catch (MvccException e)
            {
                throw EtcdErrors.From(e);
            }
        }
        if (Applier.HasPut(request))
        {
            member.CheckQuota(request);
        }
        var resp = await member.ProposeAsync<TxnResponse>(RaftRequestKind.Txn, request, ct).ConfigureAwait(false);
        member.FillHeader(resp.Header);
        return resp;
    }

    public override Task<CompactionResponse> Compact(CompactionRequest request, ServerCallContext context) =>
        CompactAsync(member, request, context.CancellationToken);

    internal static async Task<CompactionResponse> CompactAsync(MemberContext member, CompactionRequest request, CancellationToken ct)
    {
        var resp = await member.ProposeAsync<CompactionResponse>(RaftRequestKind.Compaction, request, ct).ConfigureAwait(false);
        member.FillHeader(resp.Header);
        return resp;
    }

    private static void CheckRange(RangeRequest r)
    {
        if (r.Key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey;
        }
        if (!Enum.IsDefined(r.SortOrder) || !Enum.IsDefined(r.SortTarget))
        {
            throw EtcdErrors.InvalidSortOption;
        }
    }

    /// <summary>etcd's v3rpc checks: op counts per list against --max-txn-ops, then each op.</summary>
    private static void CheckTxn(MemberContext member, TxnRequest r)
    {
        var max = member.Options.MaxTxnOps;
        if (r.Compare.Count > max || r.Success.Count > max || r.Failure.Count > max)
        {
            throw EtcdErrors.TooManyOps;
        }
        foreach (var c in r.Compare)
        {
            if (c.Key.IsEmpty)
            {
                throw EtcdErrors.EmptyKey;
            }
            // etcd runs a target or result outside the enums as if the compare held; only a raw
            // request can send one, and it is refused here rather than guessed at.
            if (!Enum.IsDefined(c.Target) || !Enum.IsDefined(c.Result))
            {
                throw EtcdErrors.InvalidCompare;
            }
        }
        foreach (var op in r.Success.Concat(r.Failure))
        {
            switch (op.RequestCase)
            {
                case RequestOp.RequestOneofCase.None:
                    throw EtcdErrors.KeyNotFound; // an op with no request, as etcd's checkRequestOp
                case RequestOp.RequestOneofCase.RequestRange:
                    CheckRange(op.RequestRange);
                    break;
                case RequestOp.RequestOneofCase.RequestPut when op.RequestPut.Key.IsEmpty:
                case RequestOp.RequestOneofCase.RequestDeleteRange when op.RequestDeleteRange.Key.IsEmpty:
                    throw EtcdErrors.EmptyKey;
                case RequestOp.RequestOneofCase.RequestTxn:
                    CheckTxn(member, op.RequestTxn);
                    break;
            }
        }
    }

    private static bool IsReadOnly(TxnRequest r) =>
        r.Success.Concat(r.Failure).All(op => op.RequestCase switch
        {
            RequestOp.RequestOneofCase.RequestRange => true,
            RequestOp.RequestOneofCase.RequestTxn => IsReadOnly(op.RequestTxn),
            _ => false,
        });
}
