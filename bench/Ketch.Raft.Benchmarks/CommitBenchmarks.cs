using BenchmarkDotNet.Attributes;

namespace Ketch.Raft.Benchmarks;

/// <summary>
/// Proposals committed per second by a 3-member in-memory cluster, at 1, 16 and 256
/// proposals per Ready: each invocation proposes one batch on the leader and pumps the cluster
/// until the batch is applied everywhere. Allocation per operation is per proposal.
/// </summary>
[MemoryDiagnoser]
public class CommitBenchmarks
{
    private InMemoryCluster _cluster = null!;
    private ReadOnlyMemory<byte>[] _batch = [];

    [Params(1, 16, 256)]
    public int ProposalsPerReady { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _cluster = new InMemoryCluster(3);
        // One shared 64-byte payload: the figure measured is the cost beyond the payload.
        var payload = new byte[64];
        _batch = Enumerable.Repeat((ReadOnlyMemory<byte>)payload, ProposalsPerReady).ToArray();
    }

    /// <summary>One invocation commits 4,096 proposals, so times and allocations are per proposal.</summary>
    [Benchmark(OperationsPerInvoke = ProposalsPerInvoke)]
    public void Commit()
    {
        for (var i = 0; i < Rounds; i++)
        {
            var result = _cluster.Leader.Propose(_batch);
            if (result != StepResult.Ok)
            {
                throw new InvalidOperationException($"proposal refused: {result}");
            }
            _cluster.Pump();
        }
    }

    private const int ProposalsPerInvoke = 4096;

    /// <summary>Batches per invocation, so every invocation commits 4,096 proposals.</summary>
    private int Rounds => ProposalsPerInvoke / ProposalsPerReady;
}
