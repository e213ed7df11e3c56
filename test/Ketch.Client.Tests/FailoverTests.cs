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
}

/// <summary>Failover against real etcd.</summary>
public sealed class EtcdFailoverTests : FailoverTests
{
    protected override IClusterProvider Provider => EtcdClusterProvider.Instance;
}
