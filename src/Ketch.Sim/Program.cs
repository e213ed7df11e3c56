using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Ketch.Sim;

/// <summary>
/// The simulator's command line.
/// <list type="bullet">
/// <item>Long mode: <c>--seeds 0..100000 --members 3,5 [--parallel N] [--steps N]</c> runs every
/// (seed, member count) pair, prints progress and <c>N runs, M violations</c>, each failing
/// seed's replay command, and exits non-zero on any violation.</item>
/// <item>Replay: <c>--seed S --members 5 [--steps N] [--bug B] --verbose</c> runs one seed,
/// printing the event trace as it goes (with the Raft core's own log lines).</item>
/// </list>
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage:
          Ketch.Sim --seeds A..B [--members 3,5] [--parallel N] [--steps N] [--harsh] [--membership] [--bug B]
          Ketch.Sim --seed S [--members 3] [--steps N] [--harsh] [--membership] [--bug B] [--verbose]
        --membership: random membership changes (add, remove, promote, demote, joint) during the faults
        bugs (planted on purpose, to see the checkers fire): None, CommitOldTermEntries, DoubleVote,
          SendBeforePersist, LeaseReadsWithClockFaults, JointCommitIgnoresOutgoing (with --membership),
          ReadIndexWithoutQuorum
        """;

    private static int Main(string[] args)
    {
        try
        {
            return Run(args);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static int Run(string[] args)
    {
        ulong? seed = null;
        (ulong From, ulong To)? range = null;
        int[] members = [3];
        var steps = new SimOptions().Steps;
        var parallel = Environment.ProcessorCount;
        var verbose = false;
        var bug = SimPlantedBug.None;
        var harsh = false;
        var membership = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--seed":
                    seed = ulong.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--seeds":
                    var parts = Next().Split("..");
                    if (parts.Length != 2)
                    {
                        throw new FormatException("--seeds takes A..B (B exclusive)");
                    }
                    range = (ulong.Parse(parts[0], CultureInfo.InvariantCulture), ulong.Parse(parts[1], CultureInfo.InvariantCulture));
                    break;
                case "--members":
                    members = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--steps":
                    steps = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--parallel":
                    parallel = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--bug":
                    bug = Enum.Parse<SimPlantedBug>(Next(), ignoreCase: true);
                    break;
                case "--harsh":
                    harsh = true;
                    break;
                case "--membership":
                    membership = true;
                    break;
                case "--verbose":
                    verbose = true;
                    break;
                case "--help" or "-h":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    throw new FormatException($"unknown argument {args[i]}");
            }
        }
        if (seed is { } s)
        {
            return Replay(s, members, steps, bug, harsh, membership, verbose);
        }
        if (range is { } r)
        {
            return Long(r.From, r.To, members, steps, bug, harsh, membership, parallel);
        }
        throw new FormatException("give --seed or --seeds");
    }

    private static int Replay(ulong seed, int[] members, int steps, SimPlantedBug bug, bool harsh, bool membership, bool verbose)
    {
        var failed = 0;
        foreach (var n in members)
        {
            var result = Simulation.Run(new SimOptions
            {
                Seed = seed,
                Members = n,
                Steps = steps,
                PlantedBug = bug,
                Harsh = harsh,
                Membership = membership,
                Verbose = verbose ? Console.Out : null,
            });
            Console.WriteLine(result.Passed
                ? result.Report() + "\n  profile: " + result.Profile.Describe()
                : result.Report());
            failed += result.Passed ? 0 : 1;
        }
        return failed == 0 ? 0 : 1;
    }

    private static int Long(ulong from, ulong to, int[] members, int steps, SimPlantedBug bug, bool harsh, bool membership, int parallel)
    {
        if (to <= from)
        {
            throw new FormatException("--seeds A..B needs A < B");
        }
        var total = (long)(to - from) * members.Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"running seeds {from}..{to} x members {string.Join(',', members)} = {total} runs, {steps} steps each, {parallel} threads, harsh {harsh}, membership {membership}, bug {bug}"));
        var failures = new ConcurrentBag<SimResult>();
        long done = 0;
        var clock = Stopwatch.StartNew();
        var lastPrint = 0L;
        var gate = new Lock();
        // Each run is single-threaded and independent; parallelism is only across runs.
        Parallel.For(0L, total, new ParallelOptions { MaxDegreeOfParallelism = parallel }, k =>
        {
            var seed = from + (ulong)(k / members.Length);
            var n = members[k % members.Length];
            var result = Simulation.Run(new SimOptions { Seed = seed, Members = n, Steps = steps, PlantedBug = bug, Harsh = harsh, Membership = membership });
            if (!result.Passed)
            {
                failures.Add(result);
                lock (gate)
                {
                    Console.WriteLine($"FAIL {result.Violation} seed {seed} members {n}: {FirstLine(result.Message)}");
                    Console.WriteLine("  replay: " + result.Options.ReplayCommand());
                }
            }
            var d = Interlocked.Increment(ref done);
            var elapsed = clock.ElapsedMilliseconds;
            if (elapsed - Interlocked.Read(ref lastPrint) >= 10_000 || d == total)
            {
                lock (gate)
                {
                    if (elapsed - lastPrint >= 10_000 || d == total)
                    {
                        lastPrint = elapsed;
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  {d}/{total} runs, {failures.Count} violations, {elapsed / 1000.0:F0} s ({d * 1000.0 / Math.Max(1, elapsed):F1} runs/s)"));
                    }
                }
            }
        });
        var sorted = failures.OrderBy(f => f.Options.Seed).ThenBy(f => f.Options.Members).ToList();
        if (sorted.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("first failure in full:");
            Console.WriteLine(sorted[0].Report());
            Console.WriteLine("failing runs:");
            foreach (var f in sorted)
            {
                Console.WriteLine($"  {f.Violation}: {f.Options.ReplayCommand()}");
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{total} runs, {sorted.Count} violations ({clock.Elapsed.TotalSeconds:F0} s)"));
        return sorted.Count == 0 ? 0 : 1;
    }

    private static string FirstLine(string s)
    {
        var nl = s.IndexOf('\n', StringComparison.Ordinal);
        return nl < 0 ? s : s[..nl];
    }
}
