using System.Globalization;
using Google.Protobuf;
using Ketch.Api.Etcdserverpb;
using WatchEventType = Ketch.Mvcc.WatchEventType;
using Ketch.Server.Api;

namespace Ketch.Server.Concurrency;

/// <summary>
/// The building blocks of etcd's client concurrency recipes (<c>client/v3/concurrency</c>), run
/// inside the member against its own KV, Watch and Lease machinery: etcd's v3election and
/// v3lock servers are those recipes over an in-process client, and so are ours. Reads are
/// linearizable and writes go through Raft exactly as a client's would.
/// </summary>
internal static class RecipeKv
{
    /// <summary>TTL in seconds of the lease granted when a request names none (etcd's
    /// <c>defaultSessionTTL</c>: a session created without a lease grants one).</summary>
    public const long DefaultSessionTtlSeconds = 60;

    /// <summary>The lease of a request, or a new one when it names none (lease 0), as etcd's
    /// <c>concurrency.NewSession</c> with <c>WithLease(0)</c> does.</summary>
    public static async Task<long> SessionLeaseAsync(MemberContext member, long lease, CancellationToken ct)
    {
        if (lease != 0)
        {
            return lease;
        }
        var grant = await AsClientError(LeaseService.GrantAsync(member, new LeaseGrantRequest { TTL = DefaultSessionTtlSeconds }, ct)).ConfigureAwait(false);
        return grant.ID;
    }

    /// <summary><c>prefix/</c> + the lease id in lower-case hex, as Go's <c>%x</c> prints it.</summary>
    public static ByteString WaiterKey(ByteString prefix, long lease)
    {
        var hex = lease < 0
            ? "-" + ((ulong)(-(lease + 1)) + 1).ToString("x", CultureInfo.InvariantCulture)
            : lease.ToString("x", CultureInfo.InvariantCulture);
        return Concat(prefix, ByteString.CopyFromUtf8(hex));
    }

    /// <summary>The key prefix of a recipe name: <c>name/</c>.</summary>
    public static ByteString Prefix(ByteString name) => Concat(name, ByteString.CopyFromUtf8("/"));

    /// <summary>The range end that covers every key starting with <paramref name="prefix"/>.</summary>
    public static ByteString PrefixEnd(ByteString prefix)
    {
        var end = prefix.ToByteArray();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return ByteString.CopyFrom(end, 0, i + 1);
            }
        }
        return ByteString.CopyFrom(0); // all 0xff: to the end of the keyspace
    }

    /// <summary>The oldest key under the prefix (etcd's <c>WithFirstCreate</c>).</summary>
    public static RangeRequest FirstCreate(ByteString prefix) => new()
    {
        Key = prefix,
        RangeEnd = PrefixEnd(prefix),
        SortTarget = RangeRequest.Types.SortTarget.Create,
        SortOrder = RangeRequest.Types.SortOrder.Ascend,
        Limit = 1,
    };

    /// <summary>Compares the create revision of a key (0: the key does not exist).</summary>
    public static Compare CreateRevisionIs(ByteString key, long revision) => new()
    {
        Key = key,
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Equal,
        CreateRevision = revision,
    };

    public static Task<RangeResponse> RangeAsync(MemberContext member, RangeRequest request, CancellationToken ct) =>
        AsClientError(KvService.RangeAsync(member, request, ct));

    public static Task<TxnResponse> TxnAsync(MemberContext member, TxnRequest request, CancellationToken ct) =>
        AsClientError(KvService.TxnAsync(member, request, ct));

    public static Task<DeleteRangeResponse> DeleteAsync(MemberContext member, ByteString key, CancellationToken ct) =>
        AsClientError(KvService.DeleteRangeAsync(member, new DeleteRangeRequest { Key = key }, ct));

    /// <summary>
    /// An error of the KV or Lease layer as etcd's election and lock servers return it: their
    /// in-process client hands back etcd's error as a plain Go error, which gRPC sends as Unknown
    /// with the same text (<c>etcdserver: requested lease not found</c>, <c>etcdserver: key is
    /// not provided</c>). Cancellation and deadlines keep their codes, as gRPC keeps them for a
    /// context's errors.
    /// </summary>
    private static async Task<T> AsClientError<T>(Task<T> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode is not (Grpc.Core.StatusCode.Cancelled or Grpc.Core.StatusCode.DeadlineExceeded or Grpc.Core.StatusCode.Unknown))
        {
            throw EtcdErrors.Make(Grpc.Core.StatusCode.Unknown, e.Status.Detail);
        }
    }

    /// <summary>
    /// Waits until every key under <paramref name="prefix"/> created at or before
    /// <paramref name="maxCreateRevision"/> is deleted (etcd's <c>waitDeletes</c>): repeatedly
    /// finds the newest such key and waits for its deletion. Returns the header of the read that
    /// found none.
    /// </summary>
    public static async Task<ResponseHeader> WaitDeletesAsync(MemberContext member, ByteString prefix, long maxCreateRevision, CancellationToken ct)
    {
        while (true)
        {
            var resp = await RangeAsync(member, new RangeRequest
            {
                Key = prefix,
                RangeEnd = PrefixEnd(prefix),
                SortTarget = RangeRequest.Types.SortTarget.Create,
                SortOrder = RangeRequest.Types.SortOrder.Descend,
                Limit = 1,
                MaxCreateRevision = maxCreateRevision,
            }, ct).ConfigureAwait(false);
            if (resp.Kvs.Count == 0)
            {
                return resp.Header;
            }
            await WaitDeleteAsync(member, resp.Kvs[0].Key, resp.Header.Revision, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for a delete event of <paramref name="key"/> at or after
    /// <paramref name="revision"/>. If the watch cannot go on (the revision was compacted) it
    /// returns, and the caller's next read decides: unlike etcd, which fails the request there.</summary>
    private static async Task WaitDeleteAsync(MemberContext member, ByteString key, long revision, CancellationToken ct)
    {
        using var watch = Watch(member, key, null, revision);
        while (await watch.NextAsync(ct).ConfigureAwait(false) is { } events)
        {
            if (events.Any(e => e.Type == WatchEventType.Delete))
            {
                return;
            }
        }
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>A watch on this member's store; a stopping member answers <c>server stopped</c>.</summary>
    public static StoreWatch Watch(MemberContext member, ByteString key, ByteString? rangeEnd, long startRevision)
    {
        try
        {
            return new StoreWatch(member.Loop, key.ToByteArray(), rangeEnd?.ToByteArray(), startRevision);
        }
        catch (ObjectDisposedException)
        {
            throw EtcdErrors.Stopped;
        }
    }

    private static ByteString Concat(ByteString a, ByteString b)
    {
        var bytes = new byte[a.Length + b.Length];
        a.Span.CopyTo(bytes);
        b.Span.CopyTo(bytes.AsSpan(a.Length));
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }
}
