using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Ketch.Client;
using Ketch.Ctl.Check;

namespace Ketch.Ctl.Commands;

/// <summary><c>check perf</c> and <c>check datascale</c>, with etcdctl 3.4's workloads, output and exit codes.</summary>
internal static class CheckCommand
{
    public static Command[] All => [new Perf(), new Datascale()];

    /// <summary>The group's word, for help.</summary>
    public static CommandGroup Group { get; } = new("check", "Checks of properties of the cluster");

    private static readonly Dictionary<string, string> s_loads = new(StringComparer.Ordinal)
    {
        ["s"] = "s", ["small"] = "s", ["m"] = "m", ["medium"] = "m", ["l"] = "l", ["large"] = "l", ["xl"] = "xl", ["xLarge"] = "xl",
    };

    private static string Load(ParsedArgs args) =>
        s_loads.GetValueOrDefault(args.Get("load")) ?? throw new CtlException(ExitCode.BadFeature, $"unknown load option {args.Get("load")}");

    private static async Task EnsureEmptyAsync(KetchClient client, string prefix, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var r = await client.Kv.GetAsync(prefix, new GetOptions { Prefix = true, Limit = 1 }, cts.Token).ConfigureAwait(false);
        if (r.Kvs.Count > 0)
        {
            throw new CtlException(ExitCode.InvalidInput, $"prefix {GoFormat.Quote(prefix)} has keys. Delete with etcdctl del --prefix {prefix} first");
        }
    }

    /// <summary>Deletes the prefix, then compacts (physically) and defragments when asked, printing as etcdctl.</summary>
    private static async Task CleanUpAsync(CtlContext ctx, KetchClient client, string prefix, ParsedArgs args, TimeSpan? timeout)
    {
        using var cts = timeout is { } t ? new CancellationTokenSource(t) : new CancellationTokenSource();
        var deleted = await client.Kv.DeleteAsync(prefix, new DeleteOptions { Prefix = true }, cts.Token).ConfigureAwait(false);
        if (args.Bool("auto-compact"))
        {
            var rev = deleted.Header.Revision;
            await ctx.Out.WriteAsync($"Compacting with revision {rev}\n").ConfigureAwait(false);
            using var c = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.Kv.CompactAsync(rev, physical: true, c.Token).ConfigureAwait(false);
            await ctx.Out.WriteAsync($"Compacted with revision {rev}\n").ConfigureAwait(false);
        }
        if (args.Bool("auto-defrag"))
        {
            foreach (var ep in ctx.Endpoints)
            {
                await ctx.Out.WriteAsync($"Defragmenting {GoFormat.Quote(ep)}\n").ConfigureAwait(false);
                using var one = ctx.Client([ep]);
                using var d = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await one.Maintenance.DefragmentAsync(d.Token).ConfigureAwait(false);
                await ctx.Out.WriteAsync($"Defragmented {GoFormat.Quote(ep)}\n").ConfigureAwait(false);
            }
        }
    }

    private static async Task<bool> PrintErrorsAsync(CtlContext ctx, LatencyReport report)
    {
        if (report.Errors.Count == 0)
        {
            return false;
        }
        await ctx.Out.WriteAsync("FAIL: too many errors\n").ConfigureAwait(false);
        foreach (var (error, count) in report.Errors)
        {
            await ctx.Out.WriteAsync($"FAIL: ERROR({error}) -> {count}\n").ConfigureAwait(false);
        }
        return true;
    }

    private static List<KetchClient> Clients(CtlContext ctx, int count) => [.. Enumerable.Range(0, count).Select(_ => ctx.Client())];

    /// <summary><c>check perf [--load s|m|l|xl] [--prefix p] [--auto-compact] [--auto-defrag]</c>: 60 s of rate-limited
    /// puts (256-byte keys, 1 KiB values), then PASS/FAIL on throughput (over 90% of the rate), slowest request
    /// (at most 0.5 s) and standard deviation (at most 0.1 s).</summary>
    internal sealed class Perf(TimeSpan? duration = null) : Command
    {
        private static readonly Dictionary<string, (int Limit, int Clients)> s_cfg = new(StringComparer.Ordinal)
        {
            ["s"] = (150, 50), ["m"] = (1000, 200), ["l"] = (8000, 500), ["xl"] = (15000, 1000),
        };

        public override string Name => "check perf";

        public override string Short => "Measures the performance of the cluster";

        public override string Usage => "[options]";

        public override IReadOnlyList<Flag> Flags =>
        [
            new("load", Default: "s", Usage: "the size of the perf check's workload: s, m, l or xl"),
            new("prefix", Default: "/etcdctl-check-perf/", Usage: "the prefix of the keys the check writes"),
            new("auto-compact", IsBool: true, Default: "false", Usage: "compact to the last revision when the check ends"),
            new("auto-defrag", IsBool: true, Default: "false", Usage: "defragment the storage when the check ends"),
        ];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            var (limit, count) = s_cfg[Load(args)];
            var length = duration ?? TimeSpan.FromSeconds(60);
            var prefix = args.Get("prefix");
            var clients = Clients(ctx, count);
            try
            {
                await EnsureEmptyAsync(clients[0], prefix, length).ConfigureAwait(false);
                var value = ByteString.CopyFrom(new byte[1024]);
                var load = new PutLoad(clients);
                var seconds = (long)Math.Ceiling(length.TotalSeconds);
                LatencyReport report;
                await using (var bar = new ProgressBar(ctx.Out, seconds))
                {
                    var run = load.RunAsync();
                    var ticks = TickAsync(bar, seconds);
                    await ProduceAsync(load, prefix, value, limit, length).ConfigureAwait(false);
                    report = await run.ConfigureAwait(false);
                    await ticks.ConfigureAwait(false);
                    await bar.FinishAsync().ConfigureAwait(false);
                }
                await CleanUpAsync(ctx, clients[0], prefix, args, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                return await VerdictAsync(ctx, report, limit).ConfigureAwait(false);
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
            }
        }

        /// <summary>A token bucket of one at <paramref name="limit"/> per second (golang.org/x/time/rate with burst 1).</summary>
        private static async Task ProduceAsync(PutLoad load, string prefix, ByteString value, int limit, TimeSpan length)
        {
            var clock = Stopwatch.StartNew();
            long sent = 0;
            while (clock.Elapsed < length)
            {
                var due = (long)(clock.Elapsed.TotalSeconds * limit) + 1;
                for (; sent < due; sent++)
                {
                    await load.Requests.WriteAsync((PutLoad.RandomKey(prefix, 256), value)).ConfigureAwait(false);
                }
                var next = TimeSpan.FromSeconds((double)sent / limit) - clock.Elapsed;
                if (next > TimeSpan.Zero)
                {
                    await Task.Delay(next).ConfigureAwait(false);
                }
            }
            load.Requests.Complete();
        }

        private static async Task TickAsync(ProgressBar bar, long seconds)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            for (var i = 0; i < seconds && await timer.WaitForNextTickAsync().ConfigureAwait(false); i++)
            {
                bar.Add();
            }
        }

        private static async Task<int> VerdictAsync(CtlContext ctx, LatencyReport s, int limit)
        {
            var ok = !await PrintErrorsAsync(ctx, s).ConfigureAwait(false);
            var rps = (long)s.Rps + 1;
            if (s.Rps / limit <= 0.9)
            {
                await ctx.Out.WriteAsync($"FAIL: Throughput too low: {rps} writes/s\n").ConfigureAwait(false);
                ok = false;
            }
            else
            {
                await ctx.Out.WriteAsync($"PASS: Throughput is {rps} writes/s\n").ConfigureAwait(false);
            }
            var slowest = s.SlowestSeconds.ToString("F6", CultureInfo.InvariantCulture);
            if (s.SlowestSeconds > 0.5)
            {
                await ctx.Out.WriteAsync($"Slowest request took too long: {slowest}s\n").ConfigureAwait(false);
                ok = false;
            }
            else
            {
                await ctx.Out.WriteAsync($"PASS: Slowest request took {slowest}s\n").ConfigureAwait(false);
            }
            var stddev = s.StddevSeconds.ToString("F6", CultureInfo.InvariantCulture);
            if (s.StddevSeconds > 0.1)
            {
                await ctx.Out.WriteAsync($"Stddev too high: {stddev}s\n").ConfigureAwait(false);
                ok = false;
            }
            else
            {
                await ctx.Out.WriteAsync($"PASS: Stddev is {stddev}s\n").ConfigureAwait(false);
            }
            await ctx.Out.WriteAsync(ok ? "PASS\n" : "FAIL\n").ConfigureAwait(false);
            return ok ? 0 : ExitCode.Error;
        }
    }

    /// <summary><c>check datascale [--load s|m|l|xl] [--prefix p] [--auto-compact] [--auto-defrag]</c>: puts a fixed
    /// number of 1 KiB key-values and reports how much the first endpoint's resident memory grew (from its
    /// <c>/metrics</c>).</summary>
    internal sealed class Datascale : Command
    {
        private static readonly Dictionary<string, (int Limit, int Clients)> s_cfg = new(StringComparer.Ordinal)
        {
            ["s"] = (10_000, 50), ["m"] = (100_000, 200), ["l"] = (1_000_000, 500), ["xl"] = (3_000_000, 1000),
        };

        public override string Name => "check datascale";

        public override string Short => "Measures how much memory a member needs to hold data of different sizes";

        public override string Usage => "[options]";

        public override string Description =>
            "The check runs against the first endpoint given (localhost when none is).";

        public override IReadOnlyList<Flag> Flags =>
        [
            new("load", Default: "s", Usage: "the size of the datascale check's workload: s, m, l or xl"),
            new("prefix", Default: "/etcdctl-check-datascale/", Usage: "the prefix of the keys the check writes"),
            new("auto-compact", IsBool: true, Default: "false", Usage: "compact to the last revision when the check ends"),
            new("auto-defrag", IsBool: true, Default: "false", Usage: "defragment the storage when the check ends"),
        ];

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            var (limit, count) = s_cfg[Load(args)];
            var prefix = args.Get("prefix");
            var clients = Clients(ctx, count);
            try
            {
                await EnsureEmptyAsync(clients[0], prefix, Timeout.InfiniteTimeSpan).ConfigureAwait(false);
                var before = await ResidentMemoryAsync(ctx, ctx.Endpoints[0]).ConfigureAwait(false);
                if (before == 0)
                {
                    await ctx.Out.WriteAsync("FAIL: Could not read process_resident_memory_bytes before the put operations.\n").ConfigureAwait(false);
                    return ExitCode.Error;
                }
                await ctx.Out.WriteAsync($"Start data scale check for work load [{limit} key-value pairs, 1024 bytes per key-value, {count} concurrent clients].\n").ConfigureAwait(false);
                var value = ByteString.CopyFrom(new byte[512]);
                LatencyReport report;
                await using (var bar = new ProgressBar(ctx.Out, limit))
                {
                    var load = new PutLoad(clients) { OnDone = () => bar.Add() };
                    var run = load.RunAsync();
                    for (var i = 0; i < limit; i++)
                    {
                        await load.Requests.WriteAsync((PutLoad.RandomKey(prefix, 512), value)).ConfigureAwait(false);
                    }
                    load.Requests.Complete();
                    report = await run.ConfigureAwait(false);
                    await bar.FinishAsync().ConfigureAwait(false);
                }
                var after = await ResidentMemoryAsync(ctx, ctx.Endpoints[0]).ConfigureAwait(false);
                if (after == 0)
                {
                    await ctx.Out.WriteAsync("FAIL: Could not read process_resident_memory_bytes after the put operations.\n").ConfigureAwait(false);
                    return ExitCode.Error;
                }
                await CleanUpAsync(ctx, clients[0], prefix, args, null).ConfigureAwait(false);
                if (await PrintErrorsAsync(ctx, report).ConfigureAwait(false))
                {
                    return ExitCode.Error;
                }
                var mb = (after - before) / (1024 * 1024);
                await ctx.Out.WriteAsync($"PASS: Approximate system memory used : {mb.ToString("F2", CultureInfo.InvariantCulture)} MB.\n").ConfigureAwait(false);
                return 0;
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
            }
        }

        /// <summary>etcdctl's endpointMemoryMetrics: <c>process_resident_memory_bytes</c> from the endpoint's
        /// <c>/metrics</c>; on failure it prints why and returns 0.</summary>
        private static async Task<double> ResidentMemoryAsync(CtlContext ctx, string endpoint)
        {
            const string Key = "process_resident_memory_bytes";
            var url = (endpoint.StartsWith("http://", StringComparison.Ordinal) || endpoint.StartsWith("https://", StringComparison.Ordinal) ? endpoint : "http://" + endpoint) + "/metrics";
            string body;
            try
            {
                // As etcdctl, the endpoint's scheme decides; over https the request shows the
                // client certificate and checks the member as the gRPC calls do (etcdctl 3.4 takes
                // only --cert, --key and --insecure-skip-tls-verify here and ignores --cacert).
                using var handler = new SocketsHttpHandler();
                if (url.StartsWith("https://", StringComparison.Ordinal) && ctx.TlsOptions is { } tls)
                {
                    handler.SslOptions = tls.Load();
                }
                using var http = new HttpClient(handler, disposeHandler: false);
                body = await http.GetStringAsync(new Uri(url), ctx.Interrupt).ConfigureAwait(false);
            }
            catch (ArgumentException ex)
            {
                // A certificate file that does not load: etcdctl's wording for it.
                await ctx.Out.WriteAsync($"client certificate error: {ex.Message}\n").ConfigureAwait(false);
                return 0;
            }
            catch (HttpRequestException ex)
            {
                await ctx.Out.WriteAsync($"fetch error: {ex.Message}\n").ConfigureAwait(false);
                return 0;
            }
            var line = body.Split('\n').FirstOrDefault(l => l.StartsWith(Key, StringComparison.Ordinal));
            if (line is null)
            {
                await ctx.Out.WriteAsync($"could not find: {Key}\n").ConfigureAwait(false);
                return 0;
            }
            var text = line[Key.Length..].Trim();
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var bytes))
            {
                await ctx.Out.WriteAsync($"parse error: strconv.ParseFloat: parsing {GoFormat.Quote(text)}: invalid syntax\n").ConfigureAwait(false);
                return 0;
            }
            return bytes;
        }
    }
}
