using System.Buffers.Binary;
using System.Text.Json;

namespace Ketch.Server.Peer;

/// <summary>Asks existing members, over the peer port, for the cluster a new member joins.</summary>
internal static class ClusterQuery
{
    /// <summary>How long a joining member waits for some member to list it.</summary>
    private static readonly TimeSpan ApplyWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The cluster as the first member that lists this one (by <paramref name="advertised"/> peer
    /// URLs) sees it. MemberAdd answers once the change is committed, but a member asked may not
    /// have applied it yet (a follower behind, or cut off from its leader): its list lacks the new
    /// member, and joining from it would fail. So every member is asked in turn, and again every
    /// 200 ms for up to <see cref="ApplyWait"/>; then the last list without this member is returned,
    /// which the open refuses with "add it with MemberAdd first". (etcd takes the first list it
    /// gets and fails then; a chaos run hit this with a lagging follower listed first.)
    /// </summary>
    public static async Task<ClusterInfo> FetchAsync(IReadOnlyList<string> peerUrls, IEnumerable<string> advertised, Tls.TlsCredentials? tls, CancellationToken ct)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            ClusterInfo? withoutUs = null;
            var errors = new List<string>();
            foreach (var url in peerUrls)
            {
                try
                {
                    var info = await PeerQuery.AskAsync([url], tls, TimeSpan.FromSeconds(5), PeerHandshake.Write(0, 0, 0), ReadAsync, ct).ConfigureAwait(false);
                    if (info.WithPeerUrls(advertised) is not null)
                    {
                        return info;
                    }
                    withoutUs = info;
                }
                catch (IOException e)
                {
                    errors.Add(e.Message);
                }
            }
            if (withoutUs is null)
            {
                throw new InvalidOperationException("could not reach any existing member to join: " + string.Join("; ", errors));
            }
            if (waited.Elapsed >= ApplyWait)
            {
                return withoutUs;
            }
            await Task.Delay(200, ct).ConfigureAwait(false);
        }
    }

    private static async Task<ClusterInfo> ReadAsync(Stream stream, string url, CancellationToken ct)
    {
        var head = new byte[5];
        await stream.ReadExactlyAsync(head, ct).ConfigureAwait(false);
        if (head[0] != PeerHandshake.Info)
        {
            throw new InvalidDataException($"unexpected answer {head[0]}");
        }
        var body = new byte[BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(1))];
        await stream.ReadExactlyAsync(body, ct).ConfigureAwait(false);
        return JsonSerializer.Deserialize<ClusterInfo>(body) ?? throw new InvalidDataException("empty cluster info");
    }
}
