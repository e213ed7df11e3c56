using System.Diagnostics;
using System.Threading.Channels;
using Ketch.Raft;
using Ketch.Wal.IO;

namespace Ketch.Wal;

/// <summary>
/// The write-ahead log of one member: Raft entries, hard states and snapshot markers appended
/// to preallocated segment files, made durable with fdatasync. Thread-safe: many appenders may
/// call <see cref="AppendAsync(ReadOnlyMemory{Entry}, HardState?, bool)"/> at once and share one
/// fsync (group commit). Format and recovery rules: docs/wal.md.
/// </summary>
/// <remarks>
/// Appenders encode their records on their own threads, then hand them to one writer loop
/// through a bounded channel. The loop drains whatever is queued (up to
/// <see cref="WalOptions.MaxBatchBytes"/>), writes it with one gather write, fdatasyncs once and
/// completes every appender of the batch. While the disk is busy with one fsync the next batch
/// gathers, so the batch size grows with the load by itself (the "group commit" of database
/// logs; etcd gets the same effect from its Ready batching).
/// </remarks>
public sealed class Wal : IDisposable, IAsyncDisposable
{
    private readonly string _dir;
    private readonly WalOptions _options;
    private readonly IWalFileSystem _fs;
    private readonly Channel<WriteRequest> _queue;
    private readonly SegmentPipeline _pipeline;
    private readonly Lock _segmentsLock = new();
    private readonly List<SegmentName> _segments;
    private readonly Task _loop;
    private readonly WalMetadata _metadata;

    // Owned by whoever holds _ioLock.
    private IWalFile _file;
    private SegmentName _current;
    private long _offset;
    private long _segmentHeaderEnd;
    private long _unsyncedBytes;
    private long _bytesAppended;
    private ulong _lastIndex;
    private HardState _hardState;
    private SnapshotMarker? _marker;
    private WriteRequest? _carry;
    private WriteRequest? _inline;

    // Held by whoever writes: the writer thread, or an appender on the optional inline path.
    private readonly Lock _ioLock = new();
    private readonly InlinePolicy _inlinePolicy = new();
    private readonly List<WriteRequest> _batch = [];
    private readonly List<ReadOnlyMemory<byte>> _buffers = [];

    private volatile Exception? _failure;
    private int _disposed;

    private Wal(string dir, WalOptions options, WalMetadata metadata, List<SegmentName> segments, IWalFile tail, long offset,
        long headerEnd, WalReplay replay)
    {
        _dir = dir;
        _options = options;
        _fs = options.FileSystem;
        _metadata = metadata;
        _segments = segments;
        _file = tail;
        _current = segments[^1];
        _offset = offset;
        _segmentHeaderEnd = headerEnd;
        _lastIndex = replay.LastIndexWritten;
        _hardState = replay.HardState;
        _marker = replay.LastMarker;
        Replay = replay;
        _queue = Channel.CreateBounded<WriteRequest>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _pipeline = new SegmentPipeline(_fs, dir, options);
        // A thread of its own: the loop blocks in write and fdatasync by design, and must not
        // queue behind the appenders' continuations on the thread pool (with 64 writers on two
        // cores that halved the batch sizes).
        _loop = Task.Factory.StartNew(WriterLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Reads the retained segments again, every payload included: for an open whose
    /// replay left out payloads that turned out to be needed. Appends must not have started.</summary>
    internal WalReplay ReadReplayAgain() => WalReader.Read(_fs, _dir, _options.MaxBatchBytes).Replay;

    /// <summary>What the WAL held when it was opened (empty for a new WAL).</summary>
    public WalReplay Replay { get; }

    /// <summary>The member and cluster this WAL belongs to.</summary>
    public WalMetadata Metadata => _metadata;

    /// <summary>The directory of the segment files.</summary>
    public string DirectoryPath => _dir;

    /// <summary>The segment files retained, oldest first.</summary>
    public IReadOnlyList<string> SegmentFiles
    {
        get
        {
            lock (_segmentsLock)
            {
                return _segments.Select(s => Path.Combine(_dir, s.ToString())).ToArray();
            }
        }
    }

    /// <summary>Creates a new WAL in <paramref name="dir"/> (which must hold no segments) with its first segment.</summary>
    public static Wal Create(string dir, WalMetadata metadata, WalOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        options ??= new WalOptions();
        options.Validate();
        var fs = options.FileSystem;
        fs.CreateDirectory(dir);
        if (WalReader.ListSegments(fs, dir).Count > 0)
        {
            throw new IOException($"a WAL already exists in {dir}");
        }
        DeleteTempFiles(fs, dir);
        var name = new SegmentName(1, 1);
        var prepared = SegmentPipeline.Prepare(fs, Path.Combine(dir, "0.tmp"), options);
        var headerEnd = WriteSegmentStart(fs, dir, prepared, name, metadata, HardState.Empty, null);
        var replay = new WalReplay(metadata, HardState.Empty, [], new HashSet<SnapshotMarker>(), null, 0, dir);
        return new Wal(dir, options, metadata, [name], prepared.File, headerEnd, headerEnd, replay);
    }

    /// <summary>Opens the WAL in <paramref name="dir"/>: reads every retained segment, repairs a torn
    /// tail (zeroing it), and makes the WAL ready to append after the last valid record. Throws
    /// <see cref="WalCorruptionException"/> for damage a crash cannot explain.</summary>
    public static Wal Open(string dir, WalOptions? options = null) => Open(dir, options, payloadsAbove: 0);

    /// <summary>Opens the WAL, replaying entries at or below <paramref name="payloadsAbove"/> without
    /// their payload (<see cref="WalReplay.PayloadsAbove"/>).</summary>
    internal static Wal Open(string dir, WalOptions? options, ulong payloadsAbove)
    {
        options ??= new WalOptions();
        options.Validate();
        var fs = options.FileSystem;
        DeleteTempFiles(fs, dir);
        var read = WalReader.Read(fs, dir, options.MaxBatchBytes, payloadsAbove);
        if (read.EmptyTailToDelete is { } empty)
        {
            fs.Delete(empty);
            fs.SyncDirectory(dir);
        }
        var tail = read.Tail;
        var file = fs.Open(tail.Path, create: false);
        try
        {
            if (tail.NeedsRepair)
            {
                Repair(file, tail, options);
            }
            var headerEnd = tail.Records.Count > 0 ? HeaderEnd(tail) : 0;
            return new Wal(dir, options, read.Replay.Metadata, read.Segments, file, tail.EndOffset, headerEnd, read.Replay);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Appends entries and then a hard state (either may be absent) and, when
    /// <paramref name="sync"/>, completes once they are durable. Entries at indexes already written
    /// replace those and everything after them on replay (Raft §5.3).</summary>
    public Task AppendAsync(ReadOnlyMemory<Entry> entries, HardState? hardState = null, bool sync = true) =>
        AppendAsync(null, entries, hardState, sync);

    /// <summary>Bytes of records handed to the log since it was opened (etcd's WAL write bytes).</summary>
    public long BytesAppended => Interlocked.Read(ref _bytesAppended);

    /// <summary>Records that a snapshot at <paramref name="marker"/> was saved, durably. Write the
    /// snapshot file first: a marker must never name a snapshot that is not on disk.</summary>
    public Task SaveSnapshotMarkerAsync(SnapshotMarker marker) => AppendAsync(marker, ReadOnlyMemory<Entry>.Empty, null, true);

    /// <summary>Completes once everything appended so far is durable.</summary>
    public Task SyncAsync() => AppendAsync(null, ReadOnlyMemory<Entry>.Empty, null, true);

    /// <summary>
    /// Appends a snapshot marker, entries and a hard state as one unit of the log, in that order
    /// (the order <see cref="Ready"/> asks for), durably when <paramref name="sync"/>. The encoding
    /// happens on the caller's thread; the write and the fdatasync on the writer thread, in a group
    /// commit with whatever else is queued. Appends issued one after another by one caller
    /// are written in that order even when not awaited in between. A failed write or fsync faults
    /// the task with <see cref="WalFailedException"/>, as does every later append.
    /// </summary>
    public Task AppendAsync(SnapshotMarker? marker, ReadOnlyMemory<Entry> entries, HardState? hardState, bool sync)
    {
        ThrowIfFailed();
        var w = new PooledBufferWriter(Math.Max(256, (int)Math.Min(1 << 20, EstimateSize(entries))));
        if (marker is { } m)
        {
            WalRecords.WriteSnapshotMarker(w, m);
        }
        foreach (var e in entries.Span)
        {
            WalRecords.WriteEntry(w, e);
        }
        if (hardState is { } hs)
        {
            WalRecords.WriteHardState(w, hs);
        }
        Interlocked.Add(ref _bytesAppended, w.Length);
        var request = new WriteRequest(w, sync, marker, entries.IsEmpty ? null : entries.Span[^1].Index, hardState);
        if (_queue.Reader.Count == 0 && (_options.InlineWhenIdle ?? _inlinePolicy.Choose(Stopwatch.GetTimestamp())) && _ioLock.TryEnter())
        {
            return AppendInline(request);
        }
        if (!_queue.Writer.TryWrite(request))
        {
            return EnqueueSlowAsync(request);
        }
        return request.Done.Task;
    }

    private async Task EnqueueSlowAsync(WriteRequest request)
    {
        try
        {
            await _queue.Writer.WriteAsync(request).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            request.Buffer.Dispose();
            throw new WalFailedException("the WAL is closed or failed", _failure ?? ex);
        }
        await request.Done.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes segments that lie wholly before a snapshot at <paramref name="snapshotIndex"/>,
    /// keeping the newest <see cref="WalOptions.MaxOldSegments"/> of them. Replay after the
    /// snapshot starts in the last segment whose first index is at most <c>snapshotIndex + 1</c>;
    /// every segment before it is old. The segment being written is never deleted.
    /// </summary>
    public void ReleaseTo(ulong snapshotIndex)
    {
        lock (_segmentsLock)
        {
            var start = -1;
            for (var i = 0; i < _segments.Count; i++)
            {
                if (_segments[i].FirstIndex <= snapshotIndex + 1)
                {
                    start = i;
                }
            }
            var delete = Math.Min(start, _segments.Count - 1) - _options.MaxOldSegments;
            if (delete <= 0)
            {
                return;
            }
            for (var i = 0; i < delete; i++)
            {
                _fs.Delete(Path.Combine(_dir, _segments[i].ToString()));
            }
            _segments.RemoveRange(0, delete);
            _fs.SyncDirectory(_dir);
        }
    }

    /// <summary>Stops accepting appends, finishes those queued, syncs and closes the files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _pipeline.Dispose();
        lock (_ioLock)
        {
            try
            {
                if (_failure is null)
                {
                    _file.Sync();
                }
            }
            finally
            {
                _file.Dispose();
            }
        }
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Completes once the background pipeline holds a prepared spare segment.</summary>
    internal Task SpareSegmentReady => _pipeline.FirstPrepared;

    /// <summary>Stops the WAL as a crash would, for tests: no sync, queued appends fail, files closed.</summary>
    internal void Abandon()
    {
        _failure ??= new WalFailedException("the WAL was abandoned", null);
        _queue.Writer.TryComplete();
        _loop.GetAwaiter().GetResult();
        _pipeline.Dispose();
        lock (_ioLock)
        {
            _file.Dispose();
        }
        Interlocked.Exchange(ref _disposed, 1);
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } f)
        {
            throw new WalFailedException("the WAL failed earlier and accepts no more appends: " + f.Message, f);
        }
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new ObjectDisposedException(nameof(Wal));
        }
    }

    // Adaptive spinning of the idle writer thread (see WaitToRead).
    private const int SpinIterations = 35;   // as Task.Wait's spin before blocking
    private const int SpinCredit = 4;        // failed spins in a row before the writer stops spinning
    private const int SpinRetryEvery = 64;   // blocking waits between two tries once it stopped
    // Wall time a spin may take. The 35 iterations take ~12 µs on an idle core (median); a spin that
    // takes longer was preempted, and there spinning costs time slices, not microseconds.
    private static readonly TimeSpan s_spinBudget = TimeSpan.FromMicroseconds(20);
    private int _spinCredit = SpinCredit;
    private int _waitsSinceSpin;

    private void WriterLoop()
    {
        while (Volatile.Read(ref _carry) is not null || WaitToRead())
        {
            lock (_ioLock)
            {
                RunRound(awaitReturning: true);
            }
        }
    }

    /// <summary>
    /// The optional fast path of an idle WAL (<see cref="WalOptions.InlineWhenIdle"/>): the appender
    /// itself writes and syncs (with whatever else is queued), with no handoff to the writer thread
    /// and back; under load the lock is busy and appends queue for the writer thread.
    /// </summary>
    private Task AppendInline(WriteRequest request)
    {
        try
        {
            _inline = request;
            while (!request.Done.Task.IsCompleted || _carry is not null)
            {
                RunRound(awaitReturning: false);
            }
        }
        finally
        {
            _ioLock.Exit();
        }
        return request.Done.Task;
    }

    /// <summary>One group commit: gather, write, sync, complete. Called with <see cref="_ioLock"/> held.</summary>
    private void RunRound(bool awaitReturning)
    {
        try
        {
            Gather(_batch, _buffers);
            var started = Stopwatch.GetTimestamp();
            Flush(_batch, _buffers);
            var flushTime = Stopwatch.GetElapsedTime(started);
            Complete(_batch, null);
            if (awaitReturning)
            {
                AwaitReturningAppenders(_batch.Count, flushTime);
            }
        }
        catch (Exception ex)
        {
            _failure ??= ex;
            Complete(_batch, _failure);
            foreach (var pending in new[] { _carry, _inline })
            {
                if (pending is not null)
                {
                    Complete([pending], _failure);
                }
            }
            _carry = null;
            _inline = null;
        }
        finally
        {
            _batch.Clear();
            _buffers.Clear();
        }
    }

    /// <summary>
    /// After a batch of <paramref name="completed"/> appends, gives their appenders a moment to come
    /// back before the next fsync starts: at most half the last flush time (and 1 ms), and only
    /// until as many appends are queued again. Without it, closed-loop appenders split into two
    /// groups that alternate between fsyncs, halving the batch size (PostgreSQL's commit_delay
    /// addresses the same effect). A lone appender (batches of one) never waits.
    /// </summary>
    private void AwaitReturningAppenders(int completed, TimeSpan flushTime)
    {
        if (completed < 2 || !_queue.Reader.CanCount)
        {
            return;
        }
        var limit = TimeSpan.FromTicks(Math.Min(flushTime.Ticks / 2, TimeSpan.TicksPerMillisecond));
        var start = Stopwatch.GetTimestamp();
        while (_queue.Reader.Count < completed && Stopwatch.GetElapsedTime(start) < limit)
        {
            // Yield the core to the appenders' continuations (this machine class has two).
            Thread.Yield();
        }
    }

    private bool WaitToRead()
    {
        var wait = _queue.Reader.WaitToReadAsync();
        if (wait.IsCompletedSuccessfully)
        {
            return wait.Result;
        }

        // Adaptive spinning, as adaptive mutexes do. A lone writer's next append arrives within
        // microseconds of the previous sync completing: spinning catches it without a kernel
        // wake-up (single-writer rate 102 % of the raw fdatasync probe spinning, 89 % blocking at
        // once; docs/wal.md). In a server the writer mostly waits for the next Raft Ready, and
        // spinning every time cost 9 % of the leader's CPU on two cores. So spin while spinning
        // pays, stop after it failed a few times in a row, and try again now and then.
        if (_spinCredit > 0 || ++_waitsSinceSpin >= SpinRetryEvery)
        {
            _waitsSinceSpin = 0;
            var started = Stopwatch.GetTimestamp();
            var spinner = new SpinWait();
            for (var i = 0; i < SpinIterations && !wait.IsCompleted; i++)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                if (Stopwatch.GetElapsedTime(started) > s_spinBudget)
                {
                    break;
                }
            }
            // On oversubscribed cores the spin's yields each gave a time slice away, and the append
            // then "arrived during the spin" every time, so spinning never stopped: under 8 busy
            // loops on 2 cores RaftRestartTests(1 member) took 3-4 min spinning, ~1 min blocking at
            // once (docs/wal.md). A spin past its budget therefore counts as failed, caught or not.
            var overran = Stopwatch.GetElapsedTime(started) > s_spinBudget;
            if (wait.IsCompleted)
            {
                _spinCredit = overran ? Math.Max(0, _spinCredit - 1) : SpinCredit;
                return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
            }
            _spinCredit = Math.Max(0, _spinCredit - 1);
        }

        // Block in the kernel, not in Task.Wait (which spins first, again).
        var task = wait.AsTask();
        ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
        return task.GetAwaiter().GetResult();
    }

    private void Gather(List<WriteRequest> batch, List<ReadOnlyMemory<byte>> buffers)
    {
        long bytes = 0;
        while (TryNext(out var r))
        {
            if (_failure is not null)
            {
                Complete([r], _failure);
                continue;
            }
            var length = r.Buffer.Length;
            if (batch.Count > 0 && bytes + length > _options.MaxBatchBytes)
            {
                _carry = r;
                return;
            }
            if (_offset + bytes + length > _options.SegmentSizeBytes && _offset + bytes > _segmentHeaderEnd)
            {
                if (batch.Count > 0)
                {
                    _carry = r;
                    return;
                }
                // Held as the carry while cutting, so that a failed cut fails it too.
                _carry = r;
                Cut();
                _carry = null;
            }
            batch.Add(r);
            if (length > 0)
            {
                buffers.Add(r.Buffer.WrittenMemory);
            }
            bytes += length;
        }
    }

    private bool TryNext(out WriteRequest r)
    {
        if (_carry is { } c)
        {
            _carry = null;
            r = c;
            return true;
        }
        if (_inline is { } i)
        {
            _inline = null;
            r = i;
            return true;
        }
        return _queue.Reader.TryRead(out r!);
    }

    private void Flush(List<WriteRequest> batch, List<ReadOnlyMemory<byte>> buffers)
    {
        if (_failure is not null)
        {
            throw _failure;
        }
        long bytes = 0;
        var sync = false;
        foreach (var r in batch)
        {
            bytes += r.Buffer.Length;
            sync |= r.Sync;
        }
        // Unsynced bytes never exceed one batch: the reader's torn-tail window relies on it.
        var mustSync = sync || _unsyncedBytes + bytes >= _options.MaxBatchBytes;
        if (bytes > 0 && mustSync)
        {
            // Write and sync in one step: directly to the device where the file allows it.
            _file.Append(_offset, buffers);
            _offset += bytes;
            _unsyncedBytes = 0;
        }
        else if (bytes > 0)
        {
            _file.Write(_offset, buffers);
            _offset += bytes;
            _unsyncedBytes += bytes;
        }
        else if (mustSync && _unsyncedBytes > 0)
        {
            _file.Sync();
            _unsyncedBytes = 0;
        }
        foreach (var r in batch)
        {
            if (r.Marker is { } m)
            {
                _marker = m;
                _lastIndex = Math.Max(_lastIndex, m.Index);
            }
            if (r.LastEntryIndex is { } last)
            {
                _lastIndex = last;
            }
            if (r.HardState is { } hs)
            {
                _hardState = hs;
            }
        }
    }

    /// <summary>Seals the current segment (fsync) and starts the next, prepared in the background:
    /// its first records repeat the metadata, the hard state and the last snapshot marker, so
    /// replay may start in any segment.</summary>
    private void Cut()
    {
        _file.Sync();
        _unsyncedBytes = 0;
        var prepared = _pipeline.TakeAsync().GetAwaiter().GetResult();
        var name = new SegmentName(_current.Sequence + 1, _lastIndex + 1);
        long headerEnd;
        try
        {
            headerEnd = WriteSegmentStart(_fs, _dir, prepared, name, _metadata, _hardState, _marker);
        }
        catch
        {
            prepared.File.Dispose();
            throw;
        }
        _file.Dispose();
        _file = prepared.File;
        _current = name;
        _offset = headerEnd;
        _segmentHeaderEnd = headerEnd;
        lock (_segmentsLock)
        {
            _segments.Add(name);
        }
    }

    /// <summary>Writes the opening records of a segment into a prepared file, syncs it and renames it
    /// into place (then syncs the directory): a segment is visible only once its start is durable.</summary>
    private static long WriteSegmentStart(IWalFileSystem fs, string dir, PreparedSegment prepared, SegmentName name,
        WalMetadata metadata, HardState hardState, SnapshotMarker? marker)
    {
        using var w = new PooledBufferWriter();
        WalRecords.WriteMetadata(w, metadata);
        if (!hardState.IsEmpty)
        {
            WalRecords.WriteHardState(w, hardState);
        }
        if (marker is { } m)
        {
            WalRecords.WriteSnapshotMarker(w, m);
        }
        prepared.File.Write(0, w.WrittenMemory);
        prepared.File.Sync();
        fs.Rename(prepared.TempPath, Path.Combine(dir, name.ToString()));
        fs.SyncDirectory(dir);
        return w.Length;
    }

    private static long HeaderEnd(SegmentScan tail)
    {
        foreach (var r in tail.Records)
        {
            if (r.Type is RecordType.Entry)
            {
                return r.Offset;
            }
        }
        return tail.EndOffset;
    }

    /// <summary>Zeroes everything after the last valid record of the tail segment (a torn record,
    /// pieces of an unsynced batch) and restores its preallocated length, then syncs.</summary>
    private static void Repair(IWalFile file, SegmentScan tail, WalOptions options)
    {
        var zeros = new byte[64 * 1024];
        var from = Math.Min(tail.EndOffset, tail.FileLength);
        var to = Math.Max(tail.DataEnd, tail.EndOffset);
        if (options.Preallocate)
        {
            to = Math.Max(to, options.SegmentSizeBytes);
        }
        for (var off = from; off < to; off += zeros.Length)
        {
            file.Write(off, zeros.AsMemory(0, (int)Math.Min(zeros.Length, to - off)));
        }
        file.Sync();
    }

    private static void DeleteTempFiles(IWalFileSystem fs, string dir)
    {
        foreach (var f in fs.List(dir))
        {
            if (f.EndsWith(".tmp", StringComparison.Ordinal))
            {
                fs.Delete(Path.Combine(dir, f));
            }
        }
    }

    private static long EstimateSize(ReadOnlyMemory<Entry> entries)
    {
        long n = 64;
        foreach (var e in entries.Span)
        {
            n += e.Data.Length + 48;
        }
        return n;
    }

    private static void Complete(List<WriteRequest> batch, Exception? error)
    {
        foreach (var r in batch)
        {
            r.Buffer.Dispose();
            if (error is null)
            {
                r.Done.TrySetResult();
            }
            else
            {
                r.Done.TrySetException(error as WalFailedException ?? new WalFailedException("WAL write failed: " + error.Message, error));
            }
        }
    }

    private sealed class WriteRequest(PooledBufferWriter buffer, bool sync, SnapshotMarker? marker, ulong? lastEntryIndex, HardState? hardState)
    {
        public PooledBufferWriter Buffer { get; } = buffer;

        public bool Sync { get; } = sync;

        public SnapshotMarker? Marker { get; } = marker;

        public ulong? LastEntryIndex { get; } = lastEntryIndex;

        public HardState? HardState { get; } = hardState;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
