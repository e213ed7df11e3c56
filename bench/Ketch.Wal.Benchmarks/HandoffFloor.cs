using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

/// <summary>
/// The cost of the WAL's handoff without the WAL: closed-loop async appenders each hand a
/// <see cref="TaskCompletionSource"/> to one writer thread, which takes all that are queued,
/// "writes" for a fixed time, completes them and waits (yielding) until as many are queued again,
/// as <c>Wal.AwaitReturningAppenders</c> does. No encoding, no I/O: what remains is the thread
/// pool's resumption of the appenders' continuations, the floor of the WAL's time between two
/// fsyncs. The "write" either sleeps (the vCPU may halt, as it does during a real write) or spins
/// (it stays busy); continuations run on the pool (the WAL's choice) or inline on the writer.
/// Usage: docs/wal.md, "Performance".
/// </summary>
internal static class HandoffFloor
{
    public static void Run(int appenders, TimeSpan writeTime, TimeSpan duration)
    {
        Console.WriteLine($"# handoff floor: {appenders} appenders, \"write\" {writeTime.TotalMicroseconds:0} us, {duration.TotalSeconds:0.#} s per mode; {Environment.ProcessorCount} cores; {DateTime.UtcNow:u}");
        Console.WriteLine("| write | continuations | appends/s | batches/s | appends/batch | all back after completing (median / mean us) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (var (sleep, inline) in new[] { (true, false), (false, false), (true, true) })
        {
            var r = Measure(appenders, writeTime, duration, sleep, inline);
            Console.WriteLine($"| {(sleep ? "sleeps" : "spins")} | {(inline ? "inline on the writer" : "thread pool")} | {r.Appends:N0} | {r.Batches:N0} | {r.Appends / r.Batches:0.0} | {r.BackMedian:0.0} / {r.BackMean:0.0} |");
        }
    }

    private static (double Appends, double Batches, double BackMedian, double BackMean) Measure(
        int appenders, TimeSpan writeTime, TimeSpan duration, bool sleep, bool inline)
    {
        var queue = new ConcurrentQueue<TaskCompletionSource>();
        var queued = 0;
        var stop = false;
        var measuring = false;
        var backTimes = new List<double>();
        // Each appender counts in a cache line of its own (as in the WAL benchmark).
        const int Stride = 16;
        var counts = new long[appenders * Stride];
        long Appends()
        {
            long sum = 0;
            for (var i = 0; i < appenders; i++)
            {
                sum += Volatile.Read(ref counts[i * Stride]);
            }
            return sum;
        }
        var options = inline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously;
        var writer = new Thread(() =>
        {
            if (sleep && OperatingSystem.IsLinux())
            {
                // 1 ns timer slack for this thread, so the sleep lasts what it asks (default 50 us).
                _ = prctl(PrSetTimerSlack, 1, 0, 0, 0);
            }
            var batch = new List<TaskCompletionSource>();
            while (!Volatile.Read(ref stop))
            {
                while (queue.TryDequeue(out var t))
                {
                    batch.Add(t);
                    Interlocked.Decrement(ref queued);
                }
                if (batch.Count == 0)
                {
                    Thread.Yield();
                    continue;
                }
                Write(writeTime, sleep);
                var completed = batch.Count;
                var start = Stopwatch.GetTimestamp();
                foreach (var t in batch)
                {
                    t.TrySetResult();
                }
                batch.Clear();
                var limit = TimeSpan.FromTicks(writeTime.Ticks / 2);
                while (Volatile.Read(ref queued) < completed && Stopwatch.GetElapsedTime(start) < limit)
                {
                    Thread.Yield();
                }
                if (Volatile.Read(ref measuring))
                {
                    backTimes.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }
            }
        })
        { IsBackground = true, Name = "handoff writer" };
        writer.Start();
        var tasks = Enumerable.Range(0, appenders).Select(a => Task.Run(async () =>
        {
            long mine = 0;
            while (!Volatile.Read(ref stop))
            {
                var t = new TaskCompletionSource(options);
                queue.Enqueue(t);
                Interlocked.Increment(ref queued);
                await t.Task;
                Volatile.Write(ref counts[a * Stride], ++mine);
            }
        })).ToArray();
        Thread.Sleep(500);
        Volatile.Write(ref measuring, true);
        var a0 = Appends();
        var sw = Stopwatch.StartNew();
        Thread.Sleep(duration);
        Volatile.Write(ref measuring, false);
        var n = Appends() - a0;
        var seconds = sw.Elapsed.TotalSeconds;
        Volatile.Write(ref stop, true);
        writer.Join();
        // Release whatever is still queued, including appends made while stopping.
        var all = Task.WhenAll(tasks);
        do
        {
            while (queue.TryDequeue(out var t))
            {
                t.TrySetResult();
            }
        }
        while (!all.Wait(TimeSpan.FromMilliseconds(10)));
        var back = backTimes.Order().ToArray();
        return back.Length == 0
            ? (n / seconds, 0, double.NaN, double.NaN)
            : (n / seconds, back.Length / seconds, back[back.Length / 2], back.Average());
    }

    private static void Write(TimeSpan time, bool sleep)
    {
        if (sleep && OperatingSystem.IsLinux())
        {
            var ts = new Timespec { Seconds = 0, Nanoseconds = time.Ticks * 100 };
            _ = nanosleep(ref ts, IntPtr.Zero);
            return;
        }
        if (sleep)
        {
            Thread.Sleep(time);
            return;
        }
        var start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < time)
        {
            Thread.SpinWait(10);
        }
    }

    private const int PrSetTimerSlack = 29;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

#pragma warning disable SYSLIB1054 // a benchmark's two libc calls; LibraryImport would need unsafe code.
    [DllImport("libc", SetLastError = true)]
    private static extern int nanosleep(ref Timespec request, IntPtr remaining);

    [DllImport("libc", SetLastError = true)]
    private static extern int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);
#pragma warning restore SYSLIB1054
}
