using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using MaintenanceService = Ketch.Api.Etcdserverpb.Maintenance;

namespace Ketch.Client;

/// <summary>The Maintenance service. Status, defragment, hash-kv and snapshot describe one member: they go to
/// the client's current endpoint (create a client per endpoint to address each member, as etcdctl does).</summary>
public sealed class MaintenanceClient
{
    private readonly Connection _conn;

    internal MaintenanceClient(Connection conn) => _conn = conn;

    /// <summary>The member's status: version, db size, leader, raft index and term.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<StatusResponse> StatusAsync(CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => new MaintenanceService.MaintenanceClient(ci).StatusAsync(new StatusRequest(), o), Retry.Safe, cancellationToken);

    /// <summary>Active alarms of the cluster.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AlarmResponse> AlarmListAsync(CancellationToken cancellationToken = default) =>
        AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, cancellationToken);

    /// <summary>Disarms an alarm; member 0 and alarm None disarm every alarm (as etcdctl does by listing first).</summary>
    /// <param name="memberId">The member that raised it.</param>
    /// <param name="alarm">The alarm type.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AlarmResponse> AlarmDisarmAsync(ulong memberId, AlarmType alarm, CancellationToken cancellationToken = default) =>
        AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, MemberID = memberId, Alarm = alarm }, cancellationToken);

    /// <summary>Sends an alarm request as it is.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AlarmResponse> AlarmAsync(AlarmRequest request, CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => new MaintenanceService.MaintenanceClient(ci).AlarmAsync(request, o), Retry.Safe, cancellationToken);

    /// <summary>Defragments the member's backend.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<DefragmentResponse> DefragmentAsync(CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => new MaintenanceService.MaintenanceClient(ci).DefragmentAsync(new DefragmentRequest(), o), Retry.Safe, cancellationToken);

    /// <summary>Hash of the key-value store up to a revision (0 for the latest).</summary>
    /// <param name="revision">The revision.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<HashKVResponse> HashKvAsync(long revision = 0, CancellationToken cancellationToken = default)
    {
        var request = new HashKVRequest { Revision = revision };
        return _conn.UnaryAsync((ci, o) => new MaintenanceService.MaintenanceClient(ci).HashKVAsync(request, o), Retry.Safe, cancellationToken);
    }

    /// <summary>Transfers leadership to another member. Must be sent to the leader.</summary>
    /// <param name="targetId">The member to become leader.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<MoveLeaderResponse> MoveLeaderAsync(ulong targetId, CancellationToken cancellationToken = default)
    {
        var request = new MoveLeaderRequest { TargetID = targetId };
        return _conn.UnaryAsync((ci, o) => new MaintenanceService.MaintenanceClient(ci).MoveLeaderAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    /// <summary>Streams a snapshot of the member's backend into <paramref name="destination"/>.
    /// No request timeout applies: a snapshot takes as long as it takes; cancel with the token.</summary>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="progress">Called with the number of bytes received so far.</param>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    /// <returns>The number of bytes written.</returns>
    public async Task<long> SnapshotAsync(Stream destination, Action<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        await _conn.Auth.EnsureAsync(cancellationToken).ConfigureAwait(false);
        using var call = new MaintenanceService.MaintenanceClient(_conn.Invoker(_conn.CurrentIndex))
            .Snapshot(new SnapshotRequest(), _conn.CallOptions(cancellationToken, null));
        long total = 0;
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var bytes = chunk.Blob.Memory;
            await destination.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            total += bytes.Length;
            progress?.Invoke(total);
        }
        return total;
    }
}
