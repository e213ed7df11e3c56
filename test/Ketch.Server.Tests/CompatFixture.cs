namespace Ketch.Server.Tests;

/// <summary>A ketch member (in-process) and a real etcd (child process), both empty at start.</summary>
public sealed class CompatFixture : IAsyncLifetime
{
    internal TestMember Ketch { get; private set; } = null!;

    internal EtcdProcess Etcd { get; private set; } = null!;

    public string KetchEndpoint => Ketch.ClientUrl.Replace("http://", "", StringComparison.Ordinal);

    public async Task InitializeAsync()
    {
        Etcdctl.Require();
        Ketch = await TestMember.StartSingleAsync();
        Etcd = await EtcdProcess.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Ketch.DisposeAsync();
        await Etcd.DisposeAsync();
    }
}
