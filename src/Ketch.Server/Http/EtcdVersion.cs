namespace Ketch.Server.Http;

/// <summary>The etcd versions we answer with: the API we implement (3.5), not our own version.</summary>
internal static class EtcdVersion
{
    public const string Server = "3.5.0";

    public const string Cluster = "3.5.0";
}
