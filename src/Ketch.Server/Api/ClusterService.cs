using System.Text.Json;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Raft;
using Ketch.Server.Member;

namespace Ketch.Server.Api;

/// <summary>etcd's Cluster service: membership changes are Raft conf changes carrying the
/// member's attributes; the list is the applied member table.</summary>
internal sealed class ClusterService(MemberContext member) : Cluster.ClusterBase
{
    /// <summary>The Cluster service's header, as etcd's: cluster, member and term, no revision
    /// (membership is not part of the key space).</summary>
    private ResponseHeader Header()
    {
        var header = member.Header();
        header.Revision = 0;
        return header;
    }

    public override async Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context)
    {
        if (request.Linearizable)
        {
            await member.Loop.WaitLinearizableAsync(context.CancellationToken).ConfigureAwait(false);
        }
        var resp = member.Loop.MemberList();
        resp.Header = Header();
        return resp;
    }

    public override async Task<MemberAddResponse> MemberAdd(MemberAddRequest request, ServerCallContext context)
    {
        var urls = request.PeerURLs.ToList();
        if (urls.Count == 0 || !urls.All(u => Uri.TryCreate(u, UriKind.Absolute, out var x) && x.Port > 0))
        {
            throw EtcdErrors.MemberBadUrls;
        }
        var members = member.Loop.Membership.Members;
        if (members.Any(m => m.PeerUrls.Intersect(urls).Any()))
        {
            throw EtcdErrors.PeerUrlExists;
        }
        if (request.IsLearner && members.Count(m => m.IsLearner) >= member.Options.MaxLearners)
        {
            throw EtcdErrors.TooManyLearners;
        }
        var id = MemberIds.MemberId(urls, member.Options.InitialClusterToken, member.Options.TimeProvider.GetUtcNow());
        if (members.Any(m => m.Id == id))
        {
            throw EtcdErrors.MemberExists;
        }
        if (member.Loop.Membership.IsRemoved(id))
        {
            // etcd's membership.ErrIDRemoved, which its gRPC layer reports as "member not found".
            throw EtcdErrors.MemberNotFound;
        }
        if (!request.IsLearner && member.Options.StrictReconfigCheck && !ReadyToAddVoter(members))
        {
            throw EtcdErrors.NotEnoughStarted;
        }
        // etcd's mayAddMember: learners too, the member taking the request must have been
        // connected to every voter for a while (isConnectedFullySince).
        if (member.Options.StrictReconfigCheck && ActiveVoters(members) < members.Count(m => !m.IsLearner))
        {
            throw EtcdErrors.Unhealthy;
        }
        var info = new MemberInfo(id, "", urls, [], request.IsLearner);
        var type = request.IsLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode;
        var result = await member.Loop.ProposeConfChangeAsync(type, id, JsonSerializer.SerializeToUtf8Bytes(info), context.CancellationToken).ConfigureAwait(false);
        var list = result.Get<MemberListResponse>();
        var resp = new MemberAddResponse { Header = Header(), Member = RaftLoop.ToProto(info) };
        resp.Members.AddRange(list.Members);
        return resp;
    }

    public override async Task<MemberRemoveResponse> MemberRemove(MemberRemoveRequest request, ServerCallContext context)
    {
        var m = member.Loop.Membership.Get(request.ID) ?? throw EtcdErrors.MemberNotFound;
        if (!m.IsLearner && member.Options.StrictReconfigCheck)
        {
            var members = member.Loop.Membership.Members;
            if (!ReadyToRemoveVoter(members, m.Id))
            {
                throw EtcdErrors.NotEnoughStarted;
            }
            // etcd's mayRemoveMember: a member that is down is not part of the active quorum and
            // may go; otherwise the voters active without it must still be a quorum of all voters.
            var down = m.Id != member.Loop.MemberId && member.Loop.PeerActiveSince(m.Id) is null;
            var voters = members.Count(x => !x.IsLearner);
            if (!down && ActiveVoters(members) - 1 < 1 + ((voters - 1) / 2))
            {
                throw EtcdErrors.Unhealthy;
            }
        }
        var result = await member.Loop.ProposeConfChangeAsync(ConfChangeType.RemoveNode, m.Id, JsonSerializer.SerializeToUtf8Bytes(m), context.CancellationToken).ConfigureAwait(false);
        var resp = new MemberRemoveResponse { Header = Header() };
        resp.Members.AddRange(result.Get<MemberListResponse>().Members);
        return resp;
    }

    public override async Task<MemberUpdateResponse> MemberUpdate(MemberUpdateRequest request, ServerCallContext context)
    {
        var m = member.Loop.Membership.Get(request.ID) ?? throw EtcdErrors.MemberNotFound;
        var urls = request.PeerURLs.ToList();
        if (urls.Count == 0 || !urls.All(u => Uri.TryCreate(u, UriKind.Absolute, out var x) && x.Port > 0))
        {
            throw EtcdErrors.MemberBadUrls;
        }
        // Two members with one peer URL would each get the other's messages (and refuse them).
        if (member.Loop.Membership.Members.Any(x => x.Id != m.Id && x.PeerUrls.Intersect(urls).Any()))
        {
            throw EtcdErrors.PeerUrlExists;
        }
        var info = m with { PeerUrls = urls };
        var result = await member.Loop.ProposeConfChangeAsync(ConfChangeType.UpdateNode, m.Id, JsonSerializer.SerializeToUtf8Bytes(info), context.CancellationToken).ConfigureAwait(false);
        var resp = new MemberUpdateResponse { Header = Header() };
        resp.Members.AddRange(result.Get<MemberListResponse>().Members);
        return resp;
    }

    public override async Task<MemberPromoteResponse> MemberPromote(MemberPromoteRequest request, ServerCallContext context)
    {
        var m = member.Loop.Membership.Get(request.ID) ?? throw EtcdErrors.MemberNotFound;
        if (!m.IsLearner)
        {
            throw EtcdErrors.MemberNotLearner;
        }
        if (!member.Loop.IsLeader && member.LeaderClient?.Cluster() is { } leader)
        {
            // Only the leader knows whether the learner is in sync (etcd forwards too).
            var forwarded = await leader.MemberPromoteAsync(request, cancellationToken: context.CancellationToken).ConfigureAwait(false);
            forwarded.Header = Header();
            return forwarded;
        }
        if (member.Loop.IsLeader && !LearnerInSync(m.Id))
        {
            throw EtcdErrors.LearnerNotReady;
        }
        var result = await member.Loop.ProposeConfChangeAsync(ConfChangeType.AddNode, m.Id, JsonSerializer.SerializeToUtf8Bytes(m with { IsLearner = false }), context.CancellationToken).ConfigureAwait(false);
        member.Metrics.LearnerPromoted();
        var resp = new MemberPromoteResponse { Header = Header() };
        resp.Members.AddRange(result.Get<MemberListResponse>().Members);
        return resp;
    }

    /// <summary>etcd's strict reconfiguration rule for adding a voter: the started voters (those that
    /// published their attributes) must be a quorum of the voters after the change; a lone member may
    /// always add a second.</summary>
    private static bool ReadyToAddVoter(IReadOnlyList<MemberInfo> members)
    {
        var voters = members.Where(m => !m.IsLearner).ToList();
        var started = voters.Count(m => m.Name.Length > 0);
        var after = voters.Count + 1;
        return (started == 1 && after == 2) || started >= (after / 2) + 1;
    }

    /// <summary>etcd's rule for removing a voter: the started voters left must still be a quorum.</summary>
    private static bool ReadyToRemoveVoter(IReadOnlyList<MemberInfo> members, ulong id)
    {
        var voters = members.Where(m => !m.IsLearner && m.Id != id).ToList();
        var started = voters.Count(m => m.Name.Length > 0);
        return voters.Count > 0 && started >= (voters.Count / 2) + 1;
    }

    /// <summary>etcd's <c>numConnectedSince</c>: the voters this member has been connected to for
    /// at least <see cref="KetchServerOptions.ReconfigHealthInterval"/>, itself included.</summary>
    private int ActiveVoters(IReadOnlyList<MemberInfo> members)
    {
        var since = member.Options.TimeProvider.GetUtcNow() - member.Options.ReconfigHealthInterval;
        return members.Count(m => !m.IsLearner
            && (m.Id == member.Loop.MemberId || member.Loop.PeerActiveSince(m.Id) is { } t && t <= since));
    }

    /// <summary>etcd's readiness rule: the learner's match is at least 90% of the leader's.</summary>
    private bool LearnerInSync(ulong id)
    {
        var status = member.Loop.RaftStatus();
        if (!status.Progress.TryGetValue(id, out var learner) || !status.Progress.TryGetValue(member.Loop.MemberId, out var leader))
        {
            return false;
        }
        return Match(learner) >= Match(leader) * 0.9;
    }

    private static double Match(string progress)
    {
        var i = progress.IndexOf("match=", StringComparison.Ordinal);
        if (i < 0)
        {
            return 0;
        }
        var end = progress.IndexOf(' ', i);
        var text = end < 0 ? progress[(i + 6)..] : progress[(i + 6)..end];
        return double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0;
    }
}
