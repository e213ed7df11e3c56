using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ketch.Wal.IO;

/// <summary>
/// Durable appends through a second descriptor of a file, opened with O_DIRECT | O_DSYNC: one
/// pwrite(2) takes the batch from our buffer to the device and returns once it is durable, where
/// the buffered path copies it into the page cache and then has fdatasync(2) write those pages back
/// and flush. On the VMs we run on the WAL measured 1.10x faster with one writer and 1.13-1.23x with
/// 64 (docs/wal.md, "Direct appends").
/// <para>
/// O_DIRECT wants the buffer, the file offset and the length aligned to the device's logical
/// block; <see cref="Alignment"/> (4 KiB, the page size and the largest logical block in use)
/// satisfies every device, and a 4 KiB-aligned write also spares a virtual disk the
/// read-modify-write of a partial host page. So an append that starts inside a block writes that
/// block again from its start: the head is the bytes already there, kept from the previous append
/// (or read back once), and the last block is padded with zeros. That padding lies in the free
/// space after the end of the log, which in a WAL segment is zeros already.
/// </para>
/// <para>
/// O_DSYNC makes the write durable for its own range only. The owner therefore appends directly
/// only while it has no buffered writes that are not yet synced (<see cref="OsFileSystem"/>).
/// </para>
/// </summary>
internal sealed class DirectAppender : IDisposable
{
    /// <summary>The alignment of every direct write's buffer, offset and length.</summary>
    public const int Alignment = 4096;

    private const long BlockMask = ~(long)(Alignment - 1);

    private readonly SafeFileHandle _direct;
    private byte[] _staging = [];
    private int _stagingStart;        // the first aligned byte of _staging
    private int _stagingLength;
    private readonly byte[] _tail = new byte[Alignment];
    private long _tailBlock = -1;     // the offset of the block _tail copies, or -1
    private long _knownLength;        // a file length seen earlier; the file only grows under us

    private DirectAppender(SafeFileHandle direct) => _direct = direct;

    /// <summary>Opens a direct, data-synchronous descriptor of the file behind
    /// <paramref name="buffered"/>, or returns null where that is not possible (not Linux, an
    /// architecture whose flag values we do not know, a file system without O_DIRECT such as tmpfs
    /// before Linux 6.6).</summary>
    public static DirectAppender? TryOpen(SafeFileHandle buffered)
    {
        if (!OperatingSystem.IsLinux() || NativeMethods.ODirect == 0)
        {
            return null;
        }
        // The same open file again, by its descriptor: the path may have been renamed since.
        var fd = NativeMethods.open($"/proc/self/fd/{buffered.DangerousGetHandle()}",
            NativeMethods.OWrOnly | NativeMethods.ODsync | NativeMethods.ODirect | NativeMethods.OCloexec);
        return fd < 0 ? null : new DirectAppender(new SafeFileHandle(fd, ownsHandle: true));
    }

    /// <summary>Forgets the cached tail block: the file was written or resized another way.</summary>
    public void Forget()
    {
        _tailBlock = -1;
        _knownLength = 0;
    }

    /// <summary>
    /// Writes <paramref name="buffers"/> at <paramref name="offset"/>, the end of the data, and
    /// returns once they are durable. Returns false, having written nothing, when the aligned write
    /// would reach past the end of the file (a direct write must not grow it: that is a metadata
    /// change O_DSYNC would journal on every append); the caller then writes the buffered way.
    /// Throws when the write fails.
    /// </summary>
    public bool TryAppend(SafeFileHandle buffered, long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers)
    {
        long length = 0;
        foreach (var b in buffers)
        {
            length += b.Length;
        }
        var start = offset & BlockMask;
        var end = offset + length;
        var alignedEnd = (end + Alignment - 1) & BlockMask;
        if (alignedEnd > _knownLength)
        {
            _knownLength = RandomAccess.GetLength(buffered);
            if (alignedEnd > _knownLength)
            {
                return false;
            }
        }
        var span = Staging(checked((int)(alignedEnd - start)));

        var head = (int)(offset - start);
        if (head > 0)
        {
            if (_tailBlock == start)
            {
                _tail.AsSpan(0, head).CopyTo(span);
            }
            else if (!ReadFully(buffered, span[..head], start))
            {
                return false;
            }
        }
        var at = head;
        foreach (var b in buffers)
        {
            b.Span.CopyTo(span[at..]);
            at += b.Length;
        }
        span[at..].Clear();

        // The tail cache is stale from here on, whatever happens to the write.
        _tailBlock = -1;
        RandomAccess.Write(_direct, span, start);
        if (end > (end & BlockMask))
        {
            var last = (end & BlockMask) - start;
            span.Slice((int)last, Alignment).CopyTo(_tail);
            _tailBlock = end & BlockMask;
        }
        return true;
    }

    public void Dispose() => _direct.Dispose();

    /// <summary>An aligned buffer of <paramref name="length"/> bytes. The array is pinned (allocated
    /// in the pinned object heap), so its address, and with it the alignment, never moves.</summary>
    private Span<byte> Staging(int length)
    {
        if (length > _stagingLength)
        {
            // A quarter more than asked, in 64 KiB steps: batches of a busy member vary in size, and
            // the largest (MaxBatchBytes, 4 MiB by default) must not cost twice its size.
            const int Step = 64 * 1024;
            var capacity = checked((int)(((long)length + length / 4 + Step - 1) / Step * Step));
            _staging = GC.AllocateUninitializedArray<byte>(capacity + Alignment, pinned: true);
            var address = Marshal.UnsafeAddrOfPinnedArrayElement(_staging, 0);
            _stagingStart = (int)((Alignment - (address % Alignment)) % Alignment);
            _stagingLength = capacity;
        }
        return _staging.AsSpan(_stagingStart, length);
    }

    private static bool ReadFully(SafeFileHandle handle, Span<byte> into, long offset)
    {
        while (!into.IsEmpty)
        {
            var n = RandomAccess.Read(handle, into, offset);
            if (n == 0)
            {
                return false;
            }
            into = into[n..];
            offset += n;
        }
        return true;
    }
}
