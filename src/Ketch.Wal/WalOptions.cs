using Ketch.Wal.IO;

namespace Ketch.Wal;

/// <summary>Tuning of a <see cref="Wal"/>. The defaults suit a production member.</summary>
public sealed record WalOptions
{
    /// <summary>The size at which a segment is cut and the next one started (64 MiB, as etcd).
    /// Segments are preallocated to this size.</summary>
    public long SegmentSizeBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Whether to preallocate segments by writing zeros (so fdatasync never has to
    /// update the block map), rather than growing the file as records are appended.</summary>
    public bool Preallocate { get; init; } = true;

    /// <summary>The most bytes one group-commit batch writes (one write call, one fdatasync). A
    /// single append larger than this is written alone. It also bounds the torn-tail window
    /// the reader accepts after the end of the log (docs/wal.md, "Torn tail or corruption").</summary>
    public int MaxBatchBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>The most appends waiting for the writer loop; appenders wait beyond it.</summary>
    public int QueueCapacity { get; init; } = 4096;

    /// <summary>How many segments wholly before the latest snapshot to keep (etcd's
    /// <c>--max-wals</c>); older ones are deleted by <see cref="Wal.ReleaseTo"/>.</summary>
    public int MaxOldSegments { get; init; } = 5;

    /// <summary>Whether an append to an idle WAL is written and synced on the caller's thread
    /// rather than handed to the writer thread. Null (the default): whichever the WAL measures to
    /// be faster on this machine (<see cref="InlinePolicy"/>); benchmarks and tests force one.</summary>
    internal bool? InlineWhenIdle { get; init; }

    /// <summary>The file layer; tests inject faults and crashes through it.</summary>
    internal IWalFileSystem FileSystem { get; init; } = OsFileSystem.Instance;

    internal void Validate()
    {
        if (SegmentSizeBytes < 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(SegmentSizeBytes), "a segment must be at least 4 KiB");
        }
        if (MaxBatchBytes < 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchBytes), "a batch must be allowed at least 4 KiB");
        }
        if (QueueCapacity < 1 || MaxOldSegments < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(QueueCapacity));
        }
    }
}
