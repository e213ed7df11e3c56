using System.Diagnostics;
using System.Globalization;
using Ketch.Raft;
using Ketch.Wal;
using Ketch.Wal.IO;

// WAL throughput against the raw fdatasync rate of the same disk, measured in the same run.
//   dotnet run -c Release --project bench/Ketch.Wal.Benchmarks -- [--seconds N] [--runs N] [--dir PATH] [--quick]
var seconds = 2.0;
var runs = 3;
var root = Path.GetTempPath();
var quick = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seconds": seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--dir": root = args[++i]; break;
        case "--quick": quick = true; break;
        case "--probe-experiments": ProbeExperiments(root); return 0;
        case "--ab":
            AlternatingSingleWriter(root, TimeSpan.FromSeconds(0.5), 16).GetAwaiter().GetResult();
            return 0;
        default: throw new ArgumentException($"unknown argument {args[i]}");
    }
}

var duration = TimeSpan.FromSeconds(seconds);
var probeDuration = TimeSpan.FromSeconds(Math.Max(0.5, seconds / 2));
Console.WriteLine($"# Ketch.Wal benchmark: {runs} runs of {seconds:0.#} s each, medians; dir {root}; {Environment.ProcessorCount} cores; {DateTime.UtcNow:u}");
Console.WriteLine();
Console.WriteLine("The disk is shared, so every run of a workload is paired with raw fdatasync probes run just");
Console.WriteLine("before it: pwrite 128 B + fdatasync by one writer, in a tight loop and with each op handed to the");
Console.WriteLine("thread pool (which measures faster here). \"raw fsyncs/s\" is the faster of the two, and \"x raw\"");
Console.WriteLine("the median over runs of entries/s divided by it: the conservative comparison.");
Console.WriteLine();
Console.WriteLine("| workload | entries/s | MB/s | fsyncs/s | entries/fsync | raw fsyncs/s | x raw |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");

var hop = Median(runs, () => RawFdatasync(root, probeDuration, hop: true));
var tight = Median(runs, () => RawFdatasync(root, probeDuration, hop: false));
Console.WriteLine($"| raw probe alone, tight loop | {tight.EntriesPerSecond:N0} | {tight.MegabytesPerSecond:N1} | {tight.FsyncsPerSecond:N0} | 1.0 | | |");
Console.WriteLine($"| raw probe alone, each op on the thread pool | {hop.EntriesPerSecond:N0} | {hop.MegabytesPerSecond:N1} | {hop.FsyncsPerSecond:N0} | 1.0 | | |");

foreach (var size in new[] { 256, 4096 })
{
    foreach (var batch in quick ? new[] { 1, 256 } : new[] { 1, 16, 256 })
    {
        Paired($"WAL 1 writer, {size} B entries, {batch}/append (1 fsync each)", () => SingleWriter(root, duration, size, batch).GetAwaiter().GetResult());
    }
}
foreach (var writers in quick ? new[] { 64 } : new[] { 64, 256 })
{
    Paired($"WAL {writers} concurrent writers, 256 B entries, 1/append (group commit)", () => Concurrent(root, duration, 256, writers).GetAwaiter().GetResult());
}
return 0;

void Paired(string name, Func<Result> workload)
{
    var pairs = new List<(Result Raw, Result Wal)>();
    for (var i = 0; i < runs; i++)
    {
        var t = RawFdatasync(root, probeDuration, hop: false);
        var h = RawFdatasync(root, probeDuration, hop: true);
        pairs.Add((t.FsyncsPerSecond >= h.FsyncsPerSecond ? t : h, workload()));
    }
    var wal = pairs.Select(p => p.Wal).OrderBy(r => r.EntriesPerSecond).ElementAt(runs / 2);
    var raw = pairs.Select(p => p.Raw.FsyncsPerSecond).Order().ElementAt(runs / 2);
    var ratio = pairs.Select(p => p.Wal.EntriesPerSecond / p.Raw.FsyncsPerSecond).Order().ElementAt(runs / 2);
    Console.WriteLine($"| {name} | {wal.EntriesPerSecond:N0} | {wal.MegabytesPerSecond:N1} | {wal.FsyncsPerSecond:N0} | {wal.EntriesPerSecond / Math.Max(1, wal.FsyncsPerSecond):N1} | {raw:N0} | {ratio:0.00} |");
}

static Result Median(int runs, Func<Result> run)
{
    var all = Enumerable.Range(0, runs).Select(_ => run()).OrderBy(r => r.EntriesPerSecond).ToArray();
    return all[all.Length / 2];
}

static string FreshDir(string root)
{
    var dir = Path.Combine(root, "ketch-wal-bench-" + Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(dir);
    return dir;
}

// The same thing the WAL does per batch, with nothing around it: a positional write into a
// preallocated file and fdatasync(2).
static Result RawFdatasync(string root, TimeSpan duration, bool hop)
{
    var dir = FreshDir(root);
    try
    {
        var fs = OsFileSystem.Instance;
        var prepared = SegmentPipeline.Prepare(fs, Path.Combine(dir, "probe"), new WalOptions());
        using var file = prepared.File;
        var data = new byte[128];
        Random.Shared.NextBytes(data);
        long ops = 0, offset = 0;
        var sw = Stopwatch.StartNew();
        var warm = true;
        while (sw.Elapsed < duration)
        {
            if (warm && sw.Elapsed > Result.Warmup)
            {
                // The first half second only lets the preallocation's writeback settle.
                warm = false;
                ops = 0;
                sw.Restart();
            }
            if (hop)
            {
                // As an async server issues it: each write+fdatasync handed to the thread pool.
                var at = offset;
                Task.Run(() => { file.Write(at, data); file.Sync(); }).Wait();
            }
            else
            {
                file.Write(offset, data);
                file.Sync();
            }
            offset += 128;
            ops++;
        }
        var s = sw.Elapsed.TotalSeconds;
        return new Result(ops / s, ops * 128 / s / 1e6, ops / s);
    }
    finally
    {
        Directory.Delete(dir, true);
    }
}

static async Task<Result> SingleWriter(string root, TimeSpan duration, int size, int batch)
{
    var dir = FreshDir(root);
    try
    {
        var fs = new CountingFileSystem();
        await using var wal = Wal.Create(dir, new WalMetadata(1, 1, ConfState.Of([1UL])), new WalOptions { FileSystem = fs });
        // Steady state: the spare segment's 64 MiB of zeros are written before timing starts (its
        // cost, one segment of zeros per segment of log, is paid in the background at each cut).
        await wal.SpareSegmentReady;
        var data = new byte[size];
        Random.Shared.NextBytes(data);
        var entries = new Entry[batch];
        ulong index = 1;
        long count = 0;
        var syncs0 = fs.Syncs;
        var sw = Stopwatch.StartNew();
        var warm = true;
        while (sw.Elapsed < duration)
        {
            if (warm && sw.Elapsed > Result.Warmup)
            {
                warm = false;
                count = 0;
                syncs0 = fs.Syncs;
                sw.Restart();
            }
            for (var i = 0; i < batch; i++)
            {
                entries[i] = new Entry(1, index++, EntryType.Normal, data);
            }
            await wal.AppendAsync(entries);
            count += batch;
        }
        var s = sw.Elapsed.TotalSeconds;
        return new Result(count / s, count * (double)size / s / 1e6, (fs.Syncs - syncs0) / s);
    }
    finally
    {
        Directory.Delete(dir, true);
    }
}

static async Task<Result> Concurrent(string root, TimeSpan duration, int size, int writers)
{
    var dir = FreshDir(root);
    try
    {
        var fs = new CountingFileSystem();
        await using var wal = Wal.Create(dir, new WalMetadata(1, 1, ConfState.Of([1UL])), new WalOptions { FileSystem = fs });
        // Steady state: the spare segment's 64 MiB of zeros are written before timing starts (its
        // cost, one segment of zeros per segment of log, is paid in the background at each cut).
        await wal.SpareSegmentReady;
        var data = new byte[size];
        Random.Shared.NextBytes(data);
        long count = 0;
        long next = 0;
        var stop = false;
        var tasks = Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            var one = new Entry[1];
            while (!Volatile.Read(ref stop))
            {
                one[0] = new Entry(1, (ulong)Interlocked.Increment(ref next), EntryType.Normal, data);
                await wal.AppendAsync(one);
                Interlocked.Increment(ref count);
            }
        })).ToArray();
        await Task.Delay(Result.Warmup);
        var count0 = Interlocked.Read(ref count);
        var syncs0 = fs.Syncs;
        var sw = Stopwatch.StartNew();
        await Task.Delay(duration);
        var n = Interlocked.Read(ref count) - count0;
        var syncs = fs.Syncs - syncs0;
        var s = sw.Elapsed.TotalSeconds;
        Volatile.Write(ref stop, true);
        await Task.WhenAll(tasks);
        return new Result(n / s, n * (double)size / s / 1e6, syncs / s);
    }
    finally
    {
        Directory.Delete(dir, true);
    }
}

// Single writer against the raw probe in steady state: one preallocated probe file and one WAL,
// created once, then alternately timed for short slices so that both see the same disk.
static async Task AlternatingSingleWriter(string root, TimeSpan slice, int pairs)
{
    var dir = FreshDir(root);
    try
    {
        var fs = OsFileSystem.Instance;
        var probe = SegmentPipeline.Prepare(fs, Path.Combine(dir, "probe"), new WalOptions());
        using var probeFile = probe.File;
        await using var wal = Wal.Create(Path.Combine(dir, "wal"), new WalMetadata(1, 1, ConfState.Of([1UL])), new WalOptions());
        await wal.SpareSegmentReady;
        await using var walInline = Wal.Create(Path.Combine(dir, "wal2"), new WalMetadata(1, 1, ConfState.Of([1UL])), new WalOptions { InlineWhenIdle = true });
        await walInline.SpareSegmentReady;
        var data128 = new byte[128];
        var data256 = new byte[256];
        long offset = 0;
        ulong index = 1, index2 = 1;
        var ratios = new List<double>();
        var raws = new List<double>();
        var wals = new List<double>();
        var hops = new List<double>();
        var threads = new List<double>();
        async Task<double> Time(Func<Task> op)
        {
            long ops = 0;
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < slice)
            {
                await op();
                ops++;
            }
            return ops / sw.Elapsed.TotalSeconds;
        }
        var one = new Entry[1];
        for (var k = 0; k < pairs + 1; k++)
        {
            var raw = await Time(() => { probeFile.Write(offset, data128); probeFile.Sync(); offset += 128; return Task.CompletedTask; });
            var w = await Time(() => { one[0] = new Entry(1, index++, EntryType.Normal, data256); return wal.AppendAsync(one); });
            var hop = await Time(() => { var at = offset; offset += 128; return Task.Run(() => { probeFile.Write(at, data128); probeFile.Sync(); }); });
            var t = await Time(() => { one[0] = new Entry(1, index2++, EntryType.Normal, data256); return walInline.AppendAsync(one); });
            if (k == 0)
            {
                continue; // warm-up round
            }
            raws.Add(raw);
            wals.Add(w);
            hops.Add(hop);
            threads.Add(t);
            ratios.Add(w / raw);
            Console.WriteLine($"probe tight loop {raw:N0}/s  WAL (default: writer thread) {w:N0}/s  ratio {w / raw:P0}   | probe with thread hop {hop:N0}/s  WAL inline (caller syncs) {t:N0}/s");
        }
        static double Med(List<double> x) => x.Order().ElementAt(x.Count / 2);
        var hopRatios = wals.Zip(hops, (w, h) => w / h).ToList();
        Console.WriteLine($"medians over {pairs} rounds of {slice.TotalSeconds:0.#} s slices: probe tight loop {Med(raws):N0}/s, WAL {Med(wals):N0}/s (ratio {Med(ratios):P0}); probe with thread hop {Med(hops):N0}/s (WAL ratio {Med(hopRatios):P0}); WAL inline {Med(threads):N0}/s");
    }
    finally
    {
        Directory.Delete(dir, true);
    }
}

static void ProbeExperiments(string root)
{
    var d = TimeSpan.FromSeconds(2);
    for (var round = 0; round < 2; round++)
    {
        Console.WriteLine($"raw tight loop: {RawFdatasync(root, d, hop: false).EntriesPerSecond:N0}/s");
        var dir = FreshDir(root);
        var prepared = SegmentPipeline.Prepare(OsFileSystem.Instance, Path.Combine(dir, "p"), new WalOptions());
        using (var file = prepared.File)
        {
            var data = new byte[128];
            long ops = 0, offset = 0;
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < d)
            {
                file.Write(offset, data);
                file.Sync();
                offset += 4096;
                ops++;
            }
            Console.WriteLine($"raw, one page per sync: {ops / sw.Elapsed.TotalSeconds:N0}/s");
            ops = 0;
            sw.Restart();
            while (sw.Elapsed < d)
            {
                Task.Run(() => { file.Write(offset, data); file.Sync(); }).Wait();
                offset += 128;
                ops++;
            }
            Console.WriteLine($"raw, each on the thread pool: {ops / sw.Elapsed.TotalSeconds:N0}/s");
        }
        Directory.Delete(dir, true);
    }
}

internal readonly record struct Result(double EntriesPerSecond, double MegabytesPerSecond, double FsyncsPerSecond)
{
    /// <summary>Un-timed lead-in of every measurement: lets the writeback of the segments'
    /// preallocated zeros (64 MiB each) settle, for the probe and the WAL alike.</summary>
    public static readonly TimeSpan Warmup = TimeSpan.FromSeconds(0.5);
}



/// <summary>The OS file system, counting fdatasyncs of WAL segments (not of background preallocation).</summary>
internal sealed class CountingFileSystem : IWalFileSystem
{
    private readonly OsFileSystem _inner = OsFileSystem.Instance;
    private long _syncs;

    public long Syncs => Interlocked.Read(ref _syncs);

    public IWalFile Open(string path, bool create) => new File(this, _inner.Open(path, create), path.EndsWith(".tmp", StringComparison.Ordinal) && Path.GetFileName(path) != "0.tmp");

    public byte[] ReadAll(string path) => _inner.ReadAll(path);

    public bool FileExists(string path) => _inner.FileExists(path);

    public IReadOnlyList<string> List(string directory) => _inner.List(directory);

    public void CreateDirectory(string directory) => _inner.CreateDirectory(directory);

    public void Delete(string path) => _inner.Delete(path);

    public void Rename(string from, string to) => _inner.Rename(from, to);

    public void SyncDirectory(string directory) => _inner.SyncDirectory(directory);

    private sealed class File(CountingFileSystem owner, IWalFile inner, bool background) : IWalFile
    {
        private bool _preallocated;

        public long Length => inner.Length;

        public void SetLength(long length) => inner.SetLength(length);

        public void Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers) => inner.Write(offset, buffers);

        public void Sync()
        {
            // The first sync of a pipeline file ends its preallocation; later ones are commits.
            if (!background || _preallocated)
            {
                Interlocked.Increment(ref owner._syncs);
            }
            _preallocated = true;
            inner.Sync();
        }

        public void Dispose() => inner.Dispose();
    }
}
