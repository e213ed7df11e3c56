using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ketch.Bench.Workloads;

/// <summary>
/// <c>fsync-probe</c>: the disk's physical limit for sequential durable writes. One thread
/// appends <c>--block-size</c> bytes (128 B: about one small Raft entry) to a fresh file in
/// <c>--path</c> and calls fdatasync(2), in a loop; each append+sync is one operation. The file
/// is deleted at the end. No server is involved.
/// </summary>
internal sealed partial class FsyncProbeWorkload : IWorkload
{
    public Task<RunResult> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var path = Path.Combine(Path.GetFullPath(options.ProbePath), $"ketch-bench-fsync-probe-{Environment.ProcessId}.dat");
        var stats = new ClientStats();
        var block = new byte[options.ProbeBlockBytes];
        new Random(options.Seed).NextBytes(block);
        var budget = new OpBudget(options.Total, options.Duration, context.Cancel);
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            long offset = 0;
            while (budget.TryTake())
            {
                var t0 = Stopwatch.GetTimestamp();
                RandomAccess.Write(handle, block, offset);
                offset += block.Length;
                Sync(handle);
                stats.RecordSuccess(BenchContext.ElapsedNs(t0));
            }
        }
        finally
        {
            File.Delete(path);
        }
        var notes = new List<KeyValuePair<string, string>>
        {
            new("file", path),
            new("block bytes", options.ProbeBlockBytes.ToString(CultureInfo.InvariantCulture)),
        };
        return Task.FromResult(RunResult.Merge(options, "fdatasync", Stopwatch.GetElapsedTime(start), [stats], notes));
    }

    private static void Sync(SafeFileHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (FdataSync((int)handle.DangerousGetHandle()) != 0)
            {
                throw new IOException($"fdatasync failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FdataSync(int fd);
}
