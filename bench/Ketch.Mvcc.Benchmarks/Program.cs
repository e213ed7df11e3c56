using BenchmarkDotNet.Running;

namespace Ketch.Mvcc.Benchmarks;

public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
