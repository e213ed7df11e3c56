using Ketch.Api.Etcdserverpb;
using ClusterService = Ketch.Api.Etcdserverpb.Cluster;

namespace Ketch.Client;

/// <summary>The Cluster service: membership.</summary>
public sealed class ClusterClient
{
    private readonly Connection _conn;

    internal ClusterClient(Connection conn) => _conn = conn;

    /// <summary>Lists the members.</summary>
    /// <param name="linearizable">Ask the leader (3.5+) instead of the member's local view.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<MemberListResponse> MemberListAsync(bool linearizable = false, CancellationToken cancellationToken = default)
    {
        var request = new MemberListRequest { Linearizable = linearizable };
        return _conn.UnaryAsync((ci, o) => new ClusterService.ClusterClient(ci).MemberListAsync(request, o), Retry.Safe, cancellationToken);
    }

    /// <summary>Adds a member (or a learner) with the given peer URLs.</summary>
    /// <param name="peerUrls">The new member's peer URLs.</param>
    /// <param name="isLearner">Add as a non-voting learner.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response with the new member's id.</returns>
    public Task<MemberAddResponse> MemberAddAsync(IEnumerable<string> peerUrls, bool isLearner = false, CancellationToken cancellationToken = default)
    {
        var request = new MemberAddRequest { IsLearner = isLearner };
        request.PeerURLs.AddRange(peerUrls);
        return _conn.UnaryAsync((ci, o) => new ClusterService.ClusterClient(ci).MemberAddAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    /// <summary>Removes a member.</summary>
    /// <param name="id">The member id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<MemberRemoveResponse> MemberRemoveAsync(ulong id, CancellationToken cancellationToken = default)
    {
        var request = new MemberRemoveRequest { ID = id };
        return _conn.UnaryAsync((ci, o) => new ClusterService.ClusterClient(ci).MemberRemoveAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    /// <summary>Changes a member's peer URLs.</summary>
    /// <param name="id">The member id.</param>
    /// <param name="peerUrls">The new peer URLs.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<MemberUpdateResponse> MemberUpdateAsync(ulong id, IEnumerable<string> peerUrls, CancellationToken cancellationToken = default)
    {
        var request = new MemberUpdateRequest { ID = id };
        request.PeerURLs.AddRange(peerUrls);
        return _conn.UnaryAsync((ci, o) => new ClusterService.ClusterClient(ci).MemberUpdateAsync(request, o), Retry.Safe, cancellationToken);
    }

    /// <summary>Promotes a learner to a voting member.</summary>
    /// <param name="id">The learner's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<MemberPromoteResponse> MemberPromoteAsync(ulong id, CancellationToken cancellationToken = default)
    {
        var request = new MemberPromoteRequest { ID = id };
        return _conn.UnaryAsync((ci, o) => new ClusterService.ClusterClient(ci).MemberPromoteAsync(request, o), Retry.IfNotSent, cancellationToken);
    }
}
