namespace Ketch.Server.Http;

/// <summary>The etcd versions we answer with: the API we implement (3.5), not our own version.</summary>
internal static class EtcdVersion
{
    /// <summary>
    /// The server version (Status, /version, etcd_server_version). Its patch level says which of
    /// 3.5's fixes our behaviour matches, and clients read it: Kubernetes serves consistent lists
    /// from its watch cache only against 3.5.13 or later, the release that made requested watch
    /// progress notifications trustworthy (etcd-io/etcd#15220, #17507); ours follow the events
    /// they cover and reach watchers that were still catching up (KvStore.RequestProgress).
    /// </summary>
    public const string Server = "3.5.13";

    /// <summary>The cluster version: major.minor.0, as etcd's.</summary>
    public const string Cluster = "3.5.0";
}
