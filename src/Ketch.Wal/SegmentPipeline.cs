using System.Threading.Channels;
using Ketch.Wal.IO;

namespace Ketch.Wal;

/// <summary>A segment file created and preallocated ahead of need, under a temporary name.</summary>
internal sealed record PreparedSegment(string TempPath, IWalFile File);

/// <summary>
/// Prepares the next segment in the background so a cut costs a header write, an fsync and a
/// rename, not 64 MiB of zeros on the commit path. Bounded: at most one file is prepared ahead
/// (etcd's file pipeline does the same).
/// </summary>
internal sealed class SegmentPipeline : IDisposable
{
    private static readonly byte[] Zeros = new byte[1024 * 1024];

    private readonly IWalFileSystem _fs;
    private readonly string _dir;
    private readonly WalOptions _options;
    private readonly Channel<PreparedSegment> _ready = Channel.CreateBounded<PreparedSegment>(1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;
    private readonly TaskCompletionSource _firstPrepared = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _counter;

    public SegmentPipeline(IWalFileSystem fs, string dir, WalOptions options)
    {
        _fs = fs;
        _dir = dir;
        _options = options;
        _producer = Task.Run(ProduceAsync);
    }

    /// <summary>Completes once a prepared segment is waiting (benchmarks wait for it, so as not to
    /// measure the preallocation of the first spare segment).</summary>
    public Task FirstPrepared => _firstPrepared.Task;

    /// <summary>Takes the next prepared file, waiting while it is being prepared.</summary>
    public async Task<PreparedSegment> TakeAsync()
    {
        try
        {
            return await _ready.Reader.ReadAsync().ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            throw new IOException("the segment pipeline failed to prepare a segment", ex.InnerException ?? ex);
        }
    }

    /// <summary>Creates and preallocates one segment file (also used directly for the first segment).</summary>
    public static PreparedSegment Prepare(IWalFileSystem fs, string tempPath, WalOptions options)
    {
        fs.Delete(tempPath);
        var file = fs.Open(tempPath, create: true);
        try
        {
            if (options.Preallocate)
            {
                // Real zeros rather than a sparse SetLength: blocks allocated now keep later
                // fdatasyncs free of block-map updates.
                for (long off = 0; off < options.SegmentSizeBytes; off += Zeros.Length)
                {
                    var n = (int)Math.Min(Zeros.Length, options.SegmentSizeBytes - off);
                    file.Write(off, Zeros.AsMemory(0, n));
                }
                file.Sync();
            }
            return new PreparedSegment(tempPath, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private async Task ProduceAsync()
    {
        try
        {
            // Prepare only when the slot is free: one spare segment at a time, never two files'
            // worth of zeros competing with the commits' fsyncs.
            while (await _ready.Writer.WaitToWriteAsync(_stop.Token).ConfigureAwait(false))
            {
                var path = Path.Combine(_dir, $"{_counter++}.tmp");
                var prepared = Prepare(_fs, path, _options);
                try
                {
                    await _ready.Writer.WriteAsync(prepared, _stop.Token).ConfigureAwait(false);
                    _firstPrepared.TrySetResult();
                }
                catch (OperationCanceledException)
                {
                    Discard(prepared);
                    break;
                }
            }
            _ready.Writer.TryComplete();
            _firstPrepared.TrySetResult();
        }
        catch (OperationCanceledException)
        {
            _ready.Writer.TryComplete();
            _firstPrepared.TrySetResult();
        }
        catch (Exception ex)
        {
            _ready.Writer.TryComplete(ex);
            _firstPrepared.TrySetException(ex);
        }
    }

    private void Discard(PreparedSegment p)
    {
        p.File.Dispose();
        try
        {
            _fs.Delete(p.TempPath);
        }
        catch (IOException)
        {
            // A leftover temp file is deleted when the WAL is next opened.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _producer.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }
        while (_ready.Reader.TryRead(out var p))
        {
            Discard(p);
        }
        _stop.Dispose();
    }
}
