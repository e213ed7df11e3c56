namespace Ketch.Testing;

/// <summary>A running cluster a test talks to: real etcd processes or ketch processes.
/// Conformance tests take a provider so the same assertions run against both.</summary>
public interface ITestCluster : IAsyncDisposable
{
    /// <summary>Human-readable kind, e.g. "etcd 3.4.23".</summary>
    string Kind { get; }

    /// <summary>Client endpoints, one per member, as <c>host:port</c> on a loopback address.</summary>
    IReadOnlyList<string> Endpoints { get; }

    /// <summary>Kills a member abruptly (SIGKILL); its data stays.</summary>
    /// <param name="member">Member index.</param>
    /// <returns>A task that completes when the process has exited.</returns>
    Task KillAsync(int member);

    /// <summary>Starts a killed member again on the same ports and data, and waits until it serves.</summary>
    /// <param name="member">Member index.</param>
    /// <returns>A task that completes when the member is ready.</returns>
    Task RestartAsync(int member);

    /// <summary>Waits until a member's process exits on its own.</summary>
    /// <param name="member">Member index.</param>
    /// <param name="timeout">How long to wait before failing with <see cref="TimeoutException"/>.</param>
    /// <returns>The process's exit code.</returns>
    Task<int> WaitForExitAsync(int member, TimeSpan timeout);
}

/// <summary>Starts clusters of one kind.</summary>
public interface IClusterProvider
{
    /// <summary>Starts a cluster of <paramref name="members"/> members on free loopback ports and waits until it serves.</summary>
    /// <param name="members">Number of members.</param>
    /// <returns>The cluster; dispose it to stop every process and delete its data.</returns>
    Task<ITestCluster> StartAsync(int members = 1);
}
