using Ketch.Server.Member;

namespace Ketch.Server.Peer;

/// <summary>What an existing member tells one about to join (<c>--initial-cluster-state existing</c>):
/// the cluster id and the member table, in which the joiner finds its own id by its peer URLs.</summary>
internal sealed record ClusterInfo(ulong ClusterId, IReadOnlyList<MemberInfo> Members)
{
    /// <summary>The member whose peer URLs are <paramref name="peerUrls"/> (in any order), or null.</summary>
    public MemberInfo? WithPeerUrls(IEnumerable<string> peerUrls)
    {
        var wanted = peerUrls.Order(StringComparer.Ordinal).ToList();
        return Members.FirstOrDefault(m => m.PeerUrls.Order(StringComparer.Ordinal).SequenceEqual(wanted));
    }
}
