namespace Ketch.Bench.Workloads;

/// <summary>One kind of load: runs to the end of the budget and returns what it measured.</summary>
internal interface IWorkload
{
    Task<RunResult> RunAsync(BenchContext context);
}
