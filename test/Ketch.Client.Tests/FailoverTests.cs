using Grpc.Core;
using Ketch.Testing;
using Xunit;

namespace Ketch.Client.Tests;

/// <summary>Several endpoints: a dead member is skipped.</summary>
public abstract class FailoverTests
{
    protected abstract IClusterProvider Provider { get; }

    [Fact]
    public async Task Requests_fail_over_when_a_member_is_down_and_watch_survives()
    {
        await using var cluster = await Provider.StartAsync(3);
        await using var client = new KetchClient(new KetchClientOptions { Endpoints = cluster.Endpoints, RequestTimeout = TimeSpan.FromSeconds(10) });
        await client.Kv.PutAsync("f", "0");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var watch = client.Watch.Watch("f");
        var seen = new List<string>();
        var reader = Task.Run(async () =>
        {
            await foreach (var r in watch.WithCancellation(cts.Token))
            {
                seen.AddRange(r.Events.Select(e => e.Kv.Value.ToStringUtf8()));
                if (seen.Contains("9"))
                {
                    return;
                }
            }
        });
        while (watch.NextRevision == 0)
        {
            await Task.Delay(10, cts.Token);
        }
        var first = client.CurrentEndpoint;
        for (var i = 1; i < 10; i++)
        {
            if (i == 5)
            {
                await cluster.KillAsync(cluster.Endpoints.ToList().FindIndex(e => first.ToString().Contains(e, StringComparison.Ordinal)));
            }
            while (true)
            {
                try
                {
                    await client.Kv.PutAsync("f", i.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken: cts.Token);
                    break;
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable)
                {
                    // Sent to the killed member after it accepted the request: retried by the test only.
                }
            }
        }
        Assert.Equal("9", (await client.Kv.GetAsync("f")).Kvs[0].Value.ToStringUtf8());
        Assert.NotEqual(first, client.CurrentEndpoint);
        await reader.WaitAsync(cts.Token);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), seen);
    }

    [Fact]
    public async Task Watch_resumes_across_a_leader_change_with_every_event_once_in_order()
    {
        const int writes = 40;
        await using var cluster = await Provider.StartAsync(3);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        // Put the leader first, so the watch runs on the member we kill and has to resume elsewhere.
        var leader = await LeaderIndexAsync(cluster, cts.Token);
        string[] endpoints = [cluster.Endpoints[leader], .. cluster.Endpoints.Where((_, i) => i != leader)];
        await using var client = new KetchClient(new KetchClientOptions { Endpoints = endpoints, RequestTimeout = TimeSpan.FromSeconds(10) });
        await client.Kv.PutAsync("r/start", "0", cancellationToken: cts.Token);
        Assert.Equal(new Uri("http://" + cluster.Endpoints[leader]), client.CurrentEndpoint);

        var watch = client.Watch.Watch("r/w/", new WatchOptions { Prefix = true });
        var events = new List<(string Key, long Revision)>();
        var reader = Task.Run(async () =>
        {
            await foreach (var r in watch.WithCancellation(cts.Token))
            {
                events.AddRange(r.Events.Select(e => (e.Kv.Key.ToStringUtf8(), e.Kv.ModRevision)));
                if (events.Count >= writes)
                {
                    return;
                }
            }
        }, cts.Token);
        while (watch.NextRevision == 0)
        {
            await Task.Delay(10, cts.Token);
        }

        for (var i = 0; i < writes; i++)
        {
            if (i == writes / 2)
            {
                await cluster.KillAsync(leader);
            }
            var key = $"r/w/{i:D3}";
            while (true)
            {
                try
                {
                    // Create-only: a write retried after an unknown outcome cannot make a second event.
                    await client.Kv.Txn().If(Cmp.Version(key, "=", 0)).Then(Op.Put(key, "v")).CommitAsync(cts.Token);
                    break;
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unknown)
                {
                    // The killed member, or no leader yet: the test retries (the txn is idempotent).
                }
            }
        }
        await reader.WaitAsync(cts.Token);

        Assert.True(watch.Reconnects >= 1, "the watch never had to resume");
        Assert.Equal(Enumerable.Range(0, writes).Select(i => $"r/w/{i:D3}"), events.Select(e => e.Key));
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Revision < p.Second.Revision), "revisions out of order");
        var stored = await client.Kv.GetAsync("r/w/", new GetOptions { Prefix = true }, cts.Token);
        Assert.Equal(stored.Kvs.Select(kv => (kv.Key.ToStringUtf8(), kv.ModRevision)), events);
    }

    /// <summary>The index in <see cref="ITestCluster.Endpoints"/> of the member every member agrees leads.</summary>
    private static async Task<int> LeaderIndexAsync(ITestCluster cluster, CancellationToken ct)
    {
        var (ids, leader) = await ClusterRoles.AgreedAsync(cluster, ct);
        return ids.IndexOf(leader);
    }
}

/// <summary>Failover against real etcd.</summary>
public sealed class EtcdFailoverTests : FailoverTests
{
    protected override IClusterProvider Provider => EtcdClusterProvider.Instance;
}

/// <summary>The same failover tests against ketch members.</summary>
public sealed class KetchFailoverTests : FailoverTests
{
    protected override IClusterProvider Provider => KetchClusterProvider.Instance;
}
