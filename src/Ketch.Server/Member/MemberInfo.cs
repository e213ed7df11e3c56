namespace Ketch.Server.Member;

/// <summary>One member of the cluster as etcd's Cluster API shows it.</summary>
internal sealed record MemberInfo(ulong Id, string Name, IReadOnlyList<string> PeerUrls, IReadOnlyList<string> ClientUrls, bool IsLearner);
