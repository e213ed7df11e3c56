using Ketch.Testing;

namespace Ketch.Client.Tests;

/// <summary>Who leads a test cluster, as its members report it.</summary>
internal static class ClusterRoles
{
    /// <summary>Each member's id (in <see cref="ITestCluster.Endpoints"/> order) and the leader
    /// every member agrees on, once they all agree on one.</summary>
    public static async Task<(List<ulong> Ids, ulong Leader)> AgreedAsync(ITestCluster cluster, CancellationToken ct)
    {
        while (true)
        {
            var ids = new List<(ulong Self, ulong Leader)>();
            foreach (var endpoint in cluster.Endpoints)
            {
                await using var one = new KetchClient(new KetchClientOptions { Endpoints = [endpoint], RequestTimeout = TimeSpan.FromSeconds(5) });
                var status = await one.Maintenance.StatusAsync(ct);
                ids.Add((status.Header.MemberId, status.Leader));
            }
            if (ids.Select(x => x.Leader).Distinct().ToList() is [var leader] && leader != 0)
            {
                return ([.. ids.Select(x => x.Self)], leader);
            }
            await Task.Delay(50, ct);
        }
    }
}
