using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Ketch.Raft;
using Ketch.Wal;
using Ketch.Wal.IO;
using Microsoft.Win32.SafeHandles;

/// <summary>
/// The WAL's group commit with nothing else of the WAL, to tell what the disk allows from what the
/// WAL spends: closed-loop appenders each encode one 256 B entry (as <c>Wal.AppendAsync</c> does)
/// and hand it over a bounded channel to one writer thread, which takes everything queued, packs it
/// after the previous batch, writes it with one 4 KiB-aligned <c>O_DIRECT | O_DSYNC</c> pwrite
/// (rewriting the partial head block, as <c>DirectAppender</c>), completes the batch and waits for
/// its appenders to come back (as <c>Wal.AwaitReturningAppenders</c>). No segments, no records
/// beyond the entries, no failure handling. The log wraps around inside one 64 MiB preallocated
/// file; with <c>zeroFill</c>, a second thread prepares segments with the WAL's own
/// <c>SegmentPipeline.Prepare</c> (64 MiB of zeros in 1 MiB buffered writes, then fdatasync) per
/// 64 MiB of log, at most one segment ahead. Usage: docs/wal.md, "What the zero fill costs".
/// </summary>
internal static class BareGroupCommit
{
    private const int Block = 4096;
    private const long FileBytes = 64L << 20;

    public static double Run(string root, TimeSpan duration, int appenders, bool zeroFill)
    {
        var dir = Path.Combine(root, "ketch-bare-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var path = Path.Combine(dir, "log");
            using var prepared = SegmentPipeline.Prepare(OsFileSystem.Buffered, path, new WalOptions()).File;
            var fd = NativeMethods.open(path, NativeMethods.OWrOnly | NativeMethods.ODsync | NativeMethods.ODirect | NativeMethods.OCloexec);
            if (fd < 0)
            {
                throw new IOException($"open(O_DIRECT) failed: errno {Marshal.GetLastPInvokeError()}");
            }
            using var direct = new SafeFileHandle(fd, ownsHandle: true);
            var queue = Channel.CreateBounded<(PooledBufferWriter Record, TaskCompletionSource Done)>(
                new BoundedChannelOptions(4096) { SingleReader = true });
            var stop = false;
            long written = 0;
            var writer = new Thread(() => WriterLoop(queue.Reader, direct, ref stop, ref written)) { IsBackground = true, Name = "bare writer" };
            var filler = new Thread(() => FillLoop(dir, ref stop, ref written)) { IsBackground = true, Name = "bare zero fill" };
            writer.Start();
            if (zeroFill)
            {
                filler.Start();
            }

            const int Stride = 16; // each appender counts in a cache line of its own
            var counts = new long[appenders * Stride];
            var data = new byte[256];
            Random.Shared.NextBytes(data);
            var tasks = Enumerable.Range(0, appenders).Select(a => Task.Run(async () =>
            {
                long mine = 0;
                var index = (ulong)a + 1;
                while (!Volatile.Read(ref stop))
                {
                    var record = new PooledBufferWriter(512);
                    WalRecords.WriteEntry(record, new Entry(1, index, EntryType.Normal, data));
                    index += (ulong)appenders;
                    var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    if (!queue.Writer.TryWrite((record, done)))
                    {
                        await queue.Writer.WriteAsync((record, done)).ConfigureAwait(false);
                    }
                    await done.Task.ConfigureAwait(false);
                    Volatile.Write(ref counts[a * Stride], ++mine);
                }
            })).ToArray();
            long Count()
            {
                long sum = 0;
                for (var i = 0; i < appenders; i++)
                {
                    sum += Volatile.Read(ref counts[i * Stride]);
                }
                return sum;
            }
            Thread.Sleep(Result.Warmup);
            var n0 = Count();
            var sw = Stopwatch.StartNew();
            Thread.Sleep(duration);
            var n = Count() - n0;
            var seconds = sw.Elapsed.TotalSeconds;
            Volatile.Write(ref stop, true);
            writer.Join();
            if (zeroFill)
            {
                filler.Join();
            }
            // Release appenders still queued after the writer stopped.
            while (!Task.WhenAll(tasks).Wait(10))
            {
                while (queue.Reader.TryRead(out var r))
                {
                    r.Record.Dispose();
                    r.Done.TrySetResult();
                }
            }
            return n / seconds;
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void WriterLoop(ChannelReader<(PooledBufferWriter Record, TaskCompletionSource Done)> queue, SafeFileHandle direct,
        ref bool stop, ref long written)
    {
        var staging = GC.AllocateUninitializedArray<byte>((4 << 20) + Block, pinned: true);
        var start = (int)((Block - (Marshal.UnsafeAddrOfPinnedArrayElement(staging, 0) % Block)) % Block);
        var batch = new List<(PooledBufferWriter Record, TaskCompletionSource Done)>();
        long offset = 0; // the end of the log in the file
        var lastSize = 1;
        var lastWrite = TimeSpan.FromMicroseconds(100);
        while (!Volatile.Read(ref stop))
        {
            // As Wal.AwaitReturningAppenders: the last batch's appenders come back, for at most
            // half the last write's time.
            var waited = Stopwatch.GetTimestamp();
            while (queue.Count < lastSize && Stopwatch.GetElapsedTime(waited) < lastWrite / 2)
            {
                Thread.Yield();
            }
            var head = (int)(offset % Block);
            var at = start + head; // the head block's first bytes are already in staging from the last write
            while (at - start < (4 << 20) - 4096 && queue.TryRead(out var r))
            {
                r.Record.Written.CopyTo(staging.AsSpan(at));
                at += r.Record.Length;
                batch.Add(r);
            }
            if (batch.Count == 0)
            {
                Thread.Yield();
                continue;
            }
            var bytes = at - start - head;
            var aligned = (at - start + Block - 1) / Block * Block;
            staging.AsSpan(at, start + aligned - at).Clear();
            var blockStart = offset - head;
            var began = Stopwatch.GetTimestamp();
            RandomAccess.Write(direct, staging.AsSpan(start, aligned), blockStart);
            lastWrite = Stopwatch.GetElapsedTime(began);
            foreach (var r in batch)
            {
                r.Record.Dispose();
                r.Done.TrySetResult();
            }
            lastSize = batch.Count;
            batch.Clear();
            offset += bytes;
            Interlocked.Add(ref written, bytes);
            // Keep the partial last block at the start of staging for the next write.
            var tail = (int)(offset % Block);
            staging.AsSpan(start + (int)(offset - blockStart - tail), tail).CopyTo(staging.AsSpan(start));
            if (offset + (4 << 20) > FileBytes)
            {
                offset = 0; // wrap around: the file stays preallocated, never grown
            }
        }
    }

    private static void FillLoop(string dir, ref bool stop, ref long written)
    {
        long filled = FileBytes; // one spare segment is ready when timing starts, as in the WAL benchmark
        while (!Volatile.Read(ref stop))
        {
            if (filled - Volatile.Read(ref written) >= FileBytes)
            {
                Thread.Sleep(1);
                continue;
            }
            // The segment pipeline's own preparation: 1 MiB buffered writes of zeros, then fdatasync.
            var path = Path.Combine(dir, $"fill{filled}");
            SegmentPipeline.Prepare(OsFileSystem.Buffered, path, new WalOptions { SegmentSizeBytes = FileBytes }).File.Dispose();
            File.Delete(path);
            filled += FileBytes;
        }
    }
}
