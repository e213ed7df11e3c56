using System.Diagnostics;
using System.Globalization;
using Ketch.Raft;
using Ketch.Wal;
using Ketch.Wal.IO;

// WAL throughput against the raw fdatasync rate of the same disk, measured in the same run.
//   dotnet run -c Release --project bench/Ketch.Wal.Benchmarks -- [--seconds N] [--runs N] [--dir PATH] [--quick]
//   ... -- --ab | --ab64 | --fill-share | [--seconds N] --handoff-floor
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
        case "--handoff-floor":
            HandoffFloor.Run(64, TimeSpan.FromMicroseconds(90), TimeSpan.FromSeconds(seconds));
            return 0;
        case "--ab64":
            AlternatingGroupCommit(root, TimeSpan.FromSeconds(1), 12, 64).GetAwaiter().GetResult();
            return 0;
        case "--fill-share":
            FillShare(root, TimeSpan.FromSeconds(1), 12, 64).GetAwaiter().GetResult();
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
Console.WriteLine("the median over runs of entries/s divided by it: the conservative comparison. \"ideal x raw\" is what");
Console.WriteLine("a WAL with no cost of its own would reach: the entries of one of its fsyncs times the rate of a");
Console.WriteLine("third probe that writes that many bytes (whole records) per fdatasync, over the same \"raw\".");
Console.WriteLine();
Console.WriteLine("| workload | entries/s | MB/s | fsyncs/s | entries/fsync | raw fsyncs/s | x raw | ideal x raw |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");

var hop = Median(runs, () => RawFdatasync(root, probeDuration, hop: true));
var tight = Median(runs, () => RawFdatasync(root, probeDuration, hop: false));
Console.WriteLine($"| raw probe alone, tight loop | {tight.EntriesPerSecond:N0} | {tight.MegabytesPerSecond:N1} | {tight.FsyncsPerSecond:N0} | 1.0 | | | |");
Console.WriteLine($"| raw probe alone, each op on the thread pool | {hop.EntriesPerSecond:N0} | {hop.MegabytesPerSecond:N1} | {hop.FsyncsPerSecond:N0} | 1.0 | | | |");

foreach (var size in new[] { 256, 4096 })
{
    foreach (var batch in quick ? new[] { 1, 256 } : new[] { 1, 16, 256 })
    {
        Paired($"WAL 1 writer, {size} B entries, {batch}/append (1 fsync each)", batch, size,
            () => SingleWriter(root, duration, size, batch).GetAwaiter().GetResult());
    }
}
foreach (var writers in quick ? new[] { 64 } : new[] { 64, 256 })
{
    Paired($"WAL {writers} concurrent writers, 256 B entries, 1/append (group commit)", writers, 256,
        () => Concurrent(root, duration, 256, writers).GetAwaiter().GetResult());
}
Paired("WAL 64 concurrent writers, as above, buffered appends (page cache + fdatasync)", 64, 256,
    () => Concurrent(root, duration, 256, 64, direct: false).GetAwaiter().GetResult());
return 0;

void Paired(string name, int entriesPerFsync, int entrySize, Func<Result> workload)
{
    var runsOf = new List<(Result Raw, Result Ideal, Result Wal)>();
    var batchBytes = entriesPerFsync * RecordBytes(entrySize);
    for (var i = 0; i < runs; i++)
    {
        var t = RawFdatasync(root, probeDuration, hop: false);
        var h = RawFdatasync(root, probeDuration, hop: true);
        var ideal = RawFdatasync(root, probeDuration, hop: false, size: batchBytes);
        runsOf.Add((t.FsyncsPerSecond >= h.FsyncsPerSecond ? t : h, ideal, workload()));
    }
    var wal = runsOf.Select(p => p.Wal).OrderBy(r => r.EntriesPerSecond).ElementAt(runs / 2);
    var raw = runsOf.Select(p => p.Raw.FsyncsPerSecond).Order().ElementAt(runs / 2);
    var ratio = runsOf.Select(p => p.Wal.EntriesPerSecond / p.Raw.FsyncsPerSecond).Order().ElementAt(runs / 2);
    var idealRatio = runsOf.Select(p => entriesPerFsync * p.Ideal.FsyncsPerSecond / p.Raw.FsyncsPerSecond).Order().ElementAt(runs / 2);
    Console.WriteLine($"| {name} | {wal.EntriesPerSecond:N0} | {wal.MegabytesPerSecond:N1} | {wal.FsyncsPerSecond:N0} | {wal.EntriesPerSecond / Math.Max(1, wal.FsyncsPerSecond):N1} | {raw:N0} | {ratio:0.00} | {idealRatio:0.00} |");
}

// The bytes one entry of entrySize bytes of data takes in the log, framing included.
static int RecordBytes(int entrySize)
{
    using var w = new PooledBufferWriter();
    WalRecords.WriteEntry(w, new Entry(1, 1_000_000, EntryType.Normal, new byte[entrySize]));
    return w.Length;
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
static Result RawFdatasync(string root, TimeSpan duration, bool hop, int size = 128)
{
    var dir = FreshDir(root);
    try
    {
        var fs = OsFileSystem.Instance;
        var prepared = SegmentPipeline.Prepare(fs, Path.Combine(dir, "probe"), new WalOptions());
        using var file = prepared.File;
        var length = file.Length;
        var data = new byte[size];
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
            offset += size;
            if (offset + size > length)
            {
                // Large probes wrap around inside the preallocated file rather than grow it.
                offset = 0;
            }
            ops++;
        }
        var s = sw.Elapsed.TotalSeconds;
        return new Result(ops / s, ops * (double)size / s / 1e6, ops / s);
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

static async Task<Result> Concurrent(string root, TimeSpan duration, int size, int writers, bool direct = true, bool sharedCounters = false)
{
    var dir = FreshDir(root);
    try
    {
        var fs = new CountingFileSystem(direct ? OsFileSystem.Instance : OsFileSystem.Buffered);
        await using var wal = Wal.Create(dir, new WalMetadata(1, 1, ConfState.Of([1UL])), new WalOptions { FileSystem = fs });
        // Steady state: the spare segment's 64 MiB of zeros are written before timing starts (its
        // cost, one segment of zeros per segment of log, is paid in the background at each cut).
        await wal.SpareSegmentReady;
        var data = new byte[size];
        Random.Shared.NextBytes(data);
        // Each writer counts its appends in a cache line of its own and numbers its entries
        // w+1, w+1+writers, ...: the harness's bookkeeping must not cost the writers what the WAL
        // is measured for. (Counters shared by all writers, bumped with Interlocked on every append,
        // bounced one cache line between the cores; kept as an option to compare.)
        const int Stride = 16;
        var counts = new long[writers * Stride];
        long shared = 0;
        long next = 0;
        var stop = false;
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var one = new Entry[1];
            var index = (ulong)w + 1;
            long mine = 0;
            while (!Volatile.Read(ref stop))
            {
                if (sharedCounters)
                {
                    one[0] = new Entry(1, (ulong)Interlocked.Increment(ref next), EntryType.Normal, data);
                    await wal.AppendAsync(one);
                    Interlocked.Increment(ref shared);
                }
                else
                {
                    one[0] = new Entry(1, index, EntryType.Normal, data);
                    index += (ulong)writers;
                    await wal.AppendAsync(one);
                    Volatile.Write(ref counts[w * Stride], ++mine);
                }
            }
        })).ToArray();
        long Count()
        {
            long sum = Interlocked.Read(ref shared);
            for (var w = 0; w < writers; w++)
            {
                sum += Volatile.Read(ref counts[w * Stride]);
            }
            return sum;
        }
        await Task.Delay(Result.Warmup);
        var count0 = Count();
        var syncs0 = fs.Syncs;
        var sw = Stopwatch.StartNew();
        await Task.Delay(duration);
        var n = Count() - count0;
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

// Single writer against the raw probe in steady state: one preallocated probe file and four
// WALs (the default with direct appends, which picks inline or handoff by measuring; buffered
// appends; always inline; always handed to the writer thread), created once, then timed in turn for
// short slices so that all see the same disk.
static async Task AlternatingSingleWriter(string root, TimeSpan slice, int rounds)
{
    var dir = FreshDir(root);
    try
    {
        var probe = SegmentPipeline.Prepare(OsFileSystem.Instance, Path.Combine(dir, "probe"), new WalOptions());
        using var probeFile = probe.File;
        var meta = new WalMetadata(1, 1, ConfState.Of([1UL]));
        await using var wal = Wal.Create(Path.Combine(dir, "wal"), meta, new WalOptions());
        await using var buffered = Wal.Create(Path.Combine(dir, "wal-buffered"), meta, new WalOptions { FileSystem = OsFileSystem.Buffered });
        await using var inline = Wal.Create(Path.Combine(dir, "wal-inline"), meta, new WalOptions { InlineWhenIdle = true });
        await using var handoff = Wal.Create(Path.Combine(dir, "wal-handoff"), meta, new WalOptions { InlineWhenIdle = false });
        await Task.WhenAll(wal.SpareSegmentReady, buffered.SpareSegmentReady, inline.SpareSegmentReady, handoff.SpareSegmentReady);
        var data128 = new byte[128];
        var data256 = new byte[256];
        long offset = 0;
        var next = new Dictionary<Wal, ulong> { [wal] = 1, [buffered] = 1, [inline] = 1, [handoff] = 1 };
        var one = new Entry[1];
        Task AppendOne(Wal w)
        {
            one[0] = new Entry(1, next[w]++, EntryType.Normal, data256);
            return w.AppendAsync(one);
        }
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
        string[] names = ["probe tight loop", "probe with thread hop", "WAL (default: direct appends)", "WAL buffered appends", "WAL inline (caller syncs)", "WAL handoff (writer thread syncs)"];
        var rates = names.Select(_ => new List<double>()).ToArray();
        for (var k = 0; k < rounds + 1; k++)
        {
            double[] r =
            [
                await Time(() => { probeFile.Write(offset, data128); probeFile.Sync(); offset += 128; return Task.CompletedTask; }),
                await Time(() => { var at = offset; offset += 128; return Task.Run(() => { probeFile.Write(at, data128); probeFile.Sync(); }); }),
                await Time(() => AppendOne(wal)),
                await Time(() => AppendOne(buffered)),
                await Time(() => AppendOne(inline)),
                await Time(() => AppendOne(handoff)),
            ];
            if (k == 0)
            {
                continue; // warm-up round
            }
            for (var i = 0; i < r.Length; i++)
            {
                rates[i].Add(r[i]);
            }
            Console.WriteLine(string.Join("  ", names.Select((n, i) => $"{n} {r[i]:N0}/s")));
        }
        PrintMedians(rounds, slice, names, rates, [(2, 0), (2, 1), (3, 0), (3, 1), (2, 3), (4, 0), (5, 0)]);
    }
    finally
    {
        Directory.Delete(dir, true);
    }
}

// 64 closed-loop writers against the raw probes: the 128 B probe, the same probe writing what one
// 64-entry group commit writes, and the WAL with direct and with buffered appends, in turn.
static async Task AlternatingGroupCommit(string root, TimeSpan slice, int rounds, int writers)
{
    var batchBytes = writers * RecordBytes(256);
    string[] names = ["probe 128 B", $"probe {batchBytes:N0} B", $"WAL {writers} writers (direct appends)", $"WAL {writers} writers buffered", "probe 128 B growing the file", $"WAL {writers} writers, shared counters"];
    var rates = names.Select(_ => new List<double>()).ToArray();
    for (var k = 0; k < rounds + 1; k++)
    {
        double[] r =
        [
            RawFdatasync(root, slice, hop: false).FsyncsPerSecond,
            RawFdatasync(root, slice, hop: false, size: batchBytes).FsyncsPerSecond * writers,
            (await Concurrent(root, slice, 256, writers)).EntriesPerSecond,
            (await Concurrent(root, slice, 256, writers, direct: false)).EntriesPerSecond,
            GrowingFileFdatasync(root, slice),
            (await Concurrent(root, slice, 256, writers, sharedCounters: true)).EntriesPerSecond,
        ];
        if (k == 0)
        {
            continue;
        }
        for (var i = 0; i < r.Length; i++)
        {
            rates[i].Add(r[i]);
        }
        Console.WriteLine(string.Join("  ", names.Select((n, i) => $"{n} {r[i]:N0}/s")) + $"  (x raw: ideal {r[1] / r[0]:0.0}, direct {r[2] / r[0]:0.0}, buffered {r[3] / r[0]:0.0})");
    }
    Console.WriteLine($"(the {batchBytes:N0} B probe's rate is shown as entries/s: fsyncs/s x {writers})");
    PrintMedians(rounds, slice, names, rates, [(1, 0), (2, 0), (3, 0), (5, 0), (2, 3), (2, 5), (2, 1), (2, 4)]);
}

// What the WAL's background zero fill costs 64 writers: the 128 B probe, the WAL, and the WAL's
// group commit alone (BareGroupCommit) without and with the same zero fill, in turn.
static async Task FillShare(string root, TimeSpan slice, int rounds, int writers)
{
    string[] names = ["probe 128 B", $"WAL {writers} writers", $"bare group commit, {writers} writers", $"bare group commit + zero fill, {writers} writers"];
    var rates = names.Select(_ => new List<double>()).ToArray();
    for (var k = 0; k < rounds + 1; k++)
    {
        double[] r =
        [
            RawFdatasync(root, slice, hop: false).FsyncsPerSecond,
            (await Concurrent(root, slice, 256, writers)).EntriesPerSecond,
            BareGroupCommit.Run(root, slice, writers, zeroFill: false),
            BareGroupCommit.Run(root, slice, writers, zeroFill: true),
        ];
        if (k == 0)
        {
            continue;
        }
        for (var i = 0; i < r.Length; i++)
        {
            rates[i].Add(r[i]);
        }
        Console.WriteLine(string.Join("  ", names.Select((n, i) => $"{n} {r[i]:N0}/s")) + $"  (x probe: WAL {r[1] / r[0]:0.0}, bare {r[2] / r[0]:0.0}, bare + fill {r[3] / r[0]:0.0})");
    }
    PrintMedians(rounds, slice, names, rates, [(1, 0), (2, 0), (3, 0), (3, 2), (1, 3)]);
}

// The probe taken literally: 128 B appended at the end of a file that grows with each
// write, then fdatasync (which then also persists the new size). Slower here than the
// preallocated probe the table compares with; printed for information, never the headline.
static double GrowingFileFdatasync(string root, TimeSpan duration)
{
    var dir = FreshDir(root);
    try
    {
        using var file = OsFileSystem.Buffered.Open(Path.Combine(dir, "growing"), create: true);
        var data = new byte[128];
        Random.Shared.NextBytes(data);
        long ops = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < duration)
        {
            file.Write(ops * 128, data);
            file.Sync();
            ops++;
        }
        return ops / sw.Elapsed.TotalSeconds;
    }
    finally
    {
        Directory.Delete(dir, true);
    }
}

static void PrintMedians(int rounds, TimeSpan slice, string[] names, List<double>[] rates, (int Of, int To)[] ratios)
{
    static double Med(IEnumerable<double> x)
    {
        var l = x.Order().ToList();
        return l[l.Count / 2];
    }
    Console.WriteLine($"medians over {rounds} rounds of {slice.TotalSeconds:0.#} s slices: " +
        string.Join(", ", names.Select((n, i) => $"{n} {Med(rates[i]):N0}/s")));
    Console.WriteLine("median ratios, per round: " +
        string.Join(", ", ratios.Select(p => $"{names[p.Of]} / {names[p.To]} {Med(rates[p.Of].Zip(rates[p.To], (a, b) => a / b)):0.00}")));
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
internal sealed class CountingFileSystem(OsFileSystem inner) : IWalFileSystem
{
    private readonly OsFileSystem _inner = inner;
    private long _syncs;

    public CountingFileSystem() : this(OsFileSystem.Instance)
    {
    }

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

        public void Append(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers)
        {
            Interlocked.Increment(ref owner._syncs);
            inner.Append(offset, buffers);
        }

        public void Dispose() => inner.Dispose();
    }
}
