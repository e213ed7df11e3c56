using Grpc.Core;
using Ketch.Testing;
using Xunit;

namespace Ketch.Client.Tests;

/// <summary>A member removed from a running cluster stops; the others go on serving.</summary>
public abstract class RemovedMemberTests
{
    protected abstract IClusterProvider Provider { get; }

    [Fact]
    public async Task A_removed_member_exits_and_the_rest_go_on_serving()
    {
        await using var cluster = await Provider.StartAsync(3);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        // A follower, so that the removal starts no election the writes below would have to wait out.
        var (index, victim) = await FollowerAsync(cluster, cts.Token);
        await using var client = new KetchClient(new KetchClientOptions { Endpoints = [.. cluster.Endpoints.Where((_, i) => i != index)], RequestTimeout = TimeSpan.FromSeconds(10) });
        while (true)
        {
            try
            {
                await client.Cluster.MemberRemoveAsync(victim, cts.Token);
                break;
            }
            catch (RpcException e) when (e.Status.Detail == "etcdserver: unhealthy cluster")
            {
                // etcd's strict reconfiguration check: every voter connected for 5 s first.
                await Task.Delay(200, cts.Token);
            }
        }

        // etcd exits with status 0 once it learns it was removed.
        Assert.Equal(0, await cluster.WaitForExitAsync(index, TimeSpan.FromSeconds(30)));
        await client.Kv.PutAsync("after-remove", "v", cancellationToken: cts.Token);
        Assert.Equal("v", (await client.Kv.GetAsync("after-remove", cancellationToken: cts.Token)).Kvs[0].Value.ToStringUtf8());
        Assert.Equal(2, (await client.Cluster.MemberListAsync(cancellationToken: cts.Token)).Members.Count);
    }

    /// <summary>The index and id of a member that every member agrees is not the leader.</summary>
    private static async Task<(int Index, ulong Id)> FollowerAsync(ITestCluster cluster, CancellationToken ct)
    {
        var (ids, leader) = await ClusterRoles.AgreedAsync(cluster, ct);
        var index = ids.FindIndex(id => id != leader);
        return (index, ids[index]);
    }
}

/// <summary>Against real etcd.</summary>
public sealed class EtcdRemovedMemberTests : RemovedMemberTests
{
    protected override IClusterProvider Provider => EtcdClusterProvider.Instance;
}

/// <summary>Against ketch members.</summary>
public sealed class KetchRemovedMemberTests : RemovedMemberTests
{
    protected override IClusterProvider Provider => KetchClusterProvider.Instance;
}
