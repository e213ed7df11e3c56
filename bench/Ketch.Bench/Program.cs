using Grpc.Core;
using Ketch.Bench;
using Ketch.Bench.Workloads;

// ketch-bench: parse, connect, run one workload, report. See ArgParser.Usage and docs/benchmarks.md.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(ArgParser.Usage);
    return args.Length == 0 ? 2 : 0;
}
if (!ArgParser.TryParse(args, out var options, out var error))
{
    await Console.Error.WriteLineAsync("ketch-bench: " + error);
    await Console.Error.WriteLineAsync("run 'ketch-bench --help' for usage");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

IWorkload workload = options!.Workload switch
{
    "put" => new PutWorkload(),
    "range" => new RangeWorkload(),
    "txn-put" => new TxnPutWorkload(),
    "txn-mixed" => new TxnMixedWorkload(),
    "watch" => new WatchWorkload(),
    "watch-latency" => new WatchLatencyWorkload(),
    "lease-keepalive" => new LeaseKeepAliveWorkload(),
    "fsync-probe" => new FsyncProbeWorkload(),
    _ => throw new InvalidOperationException("ArgParser accepted an unknown workload: " + options.Workload),
};

ChannelPool pool;
try
{
    pool = new ChannelPool(options.Endpoints, options.Conns, options.Tls);
}
catch (ArgumentException e)
{
    // etcd's benchmark: "bad tls config: ..." and exit 1.
    await Console.Error.WriteLineAsync("ketch-bench: bad tls config: " + e.Message);
    return 1;
}
using var poolScope = pool;
RunResult result;
try
{
    result = await workload.RunAsync(new BenchContext(options, pool, cancel.Token));
}
catch (Exception e) when (e is RpcException or TimeoutException or IOException)
{
    await Console.Error.WriteLineAsync($"ketch-bench: {options.Workload} failed: {e.Message}");
    return 1;
}
Console.Write(options.Json ? Report.Json(result) + Environment.NewLine
    : options.Tsv ? Report.Tsv(result) + Environment.NewLine
    : Report.Text(result));
return 0;
