using Grpc.Core;
using Google.Protobuf;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Apply;
using Ketch.Server.Http;
using Ketch.Server.Member;

namespace Ketch.Server.Api;

/// <summary>What every gRPC service and HTTP endpoint of a member shares: its Raft loop, options,
/// metrics, and the helpers that make etcd's headers and checks.</summary>
internal sealed class MemberContext(RaftLoop loop, KetchServerOptions options)
{
    public RaftLoop Loop { get; } = loop;

    public KetchServerOptions Options { get; } = options;

    public ServerMetrics Metrics => Loop.Metrics;

    /// <summary>Forwards lease calls to the leader when this member is a follower (set by the server).</summary>
    public LeaderClient? LeaderClient { get; set; }

    /// <summary>TLS of the client port (null: none), for the CN of client certificates as users.</summary>
    public Tls.TlsCredentials? ClientTls { get; set; }

    /// <summary>Cancelled when the member starts to stop (set by the server).</summary>
    public CancellationToken Stopping { get; set; }

    /// <summary>The token of a long-lived stream (watch, keep-alive, observe): the caller's, and the
    /// member's stop. A stream the stop ends fails with <see cref="ThrowIfStopped"/>'s UNAVAILABLE,
    /// which clients retry on another member, instead of being cut when the server closes its
    /// connections (a reset with no gRPC status, which grpc-js reports as INTERNAL).</summary>
    public CancellationTokenSource StreamToken(ServerCallContext context) =>
        CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, Stopping);

    /// <summary>Throws etcd's "server stopped" when the member's stop, not the caller, ended a stream.</summary>
    public void ThrowIfStopped(ServerCallContext context)
    {
        if (Stopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw EtcdErrors.Stopped;
        }
    }

    public ResponseHeader Header(long revision = 0) => new()
    {
        ClusterId = Loop.ClusterId,
        MemberId = Loop.MemberId,
        Revision = revision > 0 ? revision : Loop.Kv.CurrentRevision,
        RaftTerm = Loop.Term,
    };

    /// <summary>Fills the header of an applied response, keeping the revision it carries.</summary>
    public void FillHeader(ResponseHeader? header)
    {
        if (header is null)
        {
            return;
        }
        header.ClusterId = Loop.ClusterId;
        header.MemberId = Loop.MemberId;
        header.RaftTerm = Loop.Term;
        if (header.Revision == 0)
        {
            header.Revision = Loop.Kv.CurrentRevision;
        }
    }

    /// <summary>Runs <paramref name="read"/> on the store, and on its successor when a snapshot from
    /// the leader replaced the store while the read ran (<see cref="RaftLoop.StoreAfterAsync"/>):
    /// a client's read must not fail because the member caught up.</summary>
    public async ValueTask<T> ReadAsync<TRequest, T>(Func<Ketch.Mvcc.KvStore, TRequest, T> read, TRequest request, CancellationToken ct)
    {
        var kv = Loop.Kv;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return read(kv, request);
            }
            catch (ObjectDisposedException) when (attempt < 3)
            {
                kv = await Loop.StoreAfterAsync(kv, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>etcd refuses requests above --max-request-bytes with "request is too large".</summary>
    public void CheckSize(IMessage request)
    {
        if (request.CalculateSize() > Options.MaxRequestBytes)
        {
            throw EtcdErrors.RequestTooLarge;
        }
    }

    /// <summary>Refuses a write when the NOSPACE alarm is raised or the write would pass the
    /// quota; in the latter case the alarm is raised (through Raft, like etcd's quota check).</summary>
    public void CheckQuota(IMessage request)
    {
        if (Loop.Membership.HasAlarm(AlarmType.Nospace))
        {
            throw EtcdErrors.NoSpace;
        }
        if (Loop.Kv.DbSizeBytes + request.CalculateSize() > Options.EffectiveQuotaBytes)
        {
            _ = Loop.ProposeAsync(RaftRequestKind.Alarm, new AlarmRequest
            {
                Action = AlarmRequest.Types.AlarmAction.Activate,
                MemberID = Loop.MemberId,
                Alarm = AlarmType.Nospace,
            }, CancellationToken.None);
            throw EtcdErrors.NoSpace;
        }
    }

    /// <summary>How often a proposal refused at apply as checked at an old auth revision is sent
    /// again with the current one (etcd's <c>raftRequest</c> retries without a bound).</summary>
    private const int MaxAuthRetries = 8;

    /// <summary>Proposes and returns the applied response with its header filled. A client
    /// request's proposal carries its sender (<see cref="Auth.RequestAuth.Current"/>) to be checked
    /// again at apply; refused there as checked at an old auth revision, it is proposed again with
    /// the current one (etcd's <c>raftRequest</c>), and that apply re-checks it against the new
    /// state, so a permission revoked meanwhile refuses it. A JWT's revision is the token's own: a
    /// stale one goes back to the client, which authenticates again.</summary>
    public async Task<T> ProposeAsync<T>(RaftRequestKind kind, IMessage request, CancellationToken ct)
        where T : class, IMessage
    {
        var auth = Auth.RequestAuth.Current;
        for (var attempt = 0; ; attempt++)
        {
            var result = await Loop.ProposeAsync(kind, request, ct, auth).ConfigureAwait(false);
            if (auth is { Pinned: false } && attempt < MaxAuthRetries && result.Error is { } error
                && error.Status.Detail == Auth.AuthErrors.OldRevision.Status.Detail)
            {
                auth = auth with { Revision = Loop.Auth.Revision };
                continue;
            }
            var response = result.Get<T>();
            Metrics.ProposalsCommitted();
            return response;
        }
    }
}
