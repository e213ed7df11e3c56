using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ketch.Wal.IO;

/// <summary>The real file system: positional I/O through <see cref="RandomAccess"/>, durability
/// through fdatasync(2) on Linux (fsync elsewhere), and durable appends written directly to the
/// device where the file system allows it (<see cref="DirectAppender"/>).</summary>
internal sealed class OsFileSystem(bool directAppends) : IWalFileSystem
{
    /// <summary>The file system the WAL uses: direct appends where possible.</summary>
    public static OsFileSystem Instance { get; } = new(directAppends: true);

    /// <summary>Every write through the page cache, every sync an fdatasync: the comparison the
    /// benchmark draws, and the fallback wherever direct I/O is unavailable.</summary>
    public static OsFileSystem Buffered { get; } = new(directAppends: false);

    private readonly bool _directAppendsOn = directAppends;
    private long _directAppends;

    /// <summary>How many appends of files opened here went to the device directly.</summary>
    public long DirectAppends => Interlocked.Read(ref _directAppends);

    public IWalFile Open(string path, bool create) =>
        new OsFile(this, File.OpenHandle(path, create ? FileMode.OpenOrCreate : FileMode.Open, FileAccess.ReadWrite, FileShare.Read));

    public byte[] ReadAll(string path) => File.ReadAllBytes(path);

    public bool FileExists(string path) => File.Exists(path);

    public IReadOnlyList<string> List(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory).Select(p => Path.GetFileName(p)).ToArray()
            : [];

    public void CreateDirectory(string directory) => Directory.CreateDirectory(directory);

    public void Delete(string path) => File.Delete(path);

    public void Rename(string from, string to) => File.Move(from, to, overwrite: true);

    public void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        // A directory is fsynced through a read-only descriptor (open(2) with O_DIRECTORY).
        var fd = NativeMethods.open(directory, NativeMethods.ORdOnly | NativeMethods.ODirectory);
        if (fd < 0)
        {
            throw new IOException($"open({directory}) for fsync failed: errno {Marshal.GetLastPInvokeError()}");
        }
        try
        {
            if (NativeMethods.fsync(fd) != 0)
            {
                throw new IOException($"fsync({directory}) failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            _ = NativeMethods.close(fd);
        }
    }

    private sealed class OsFile(OsFileSystem owner, SafeFileHandle handle) : IWalFile
    {
        private DirectAppender? _direct;
        private bool _directTried = !owner._directAppendsOn;
        private bool _directWorked;

        // Whether buffered writes may be waiting in the page cache. True on open: a process that
        // died before its sync may have left dirty pages of this file behind, which a reader sees
        // (and replay trusts) but which only an fdatasync makes durable; O_DSYNC covers the range
        // it writes and nothing else.
        private bool _unsynced = true;

        public long Length => RandomAccess.GetLength(handle);

        public void SetLength(long length)
        {
            _direct?.Forget();
            _unsynced = true;
            RandomAccess.SetLength(handle, length);
        }

        public void Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers)
        {
            _direct?.Forget();
            _unsynced = true;
            if (buffers.Count == 1)
            {
                RandomAccess.Write(handle, buffers[0].Span, offset);
            }
            else
            {
                // pwritev(2): one system call for the whole group-commit batch.
                RandomAccess.Write(handle, buffers, offset);
            }
        }

        public void Sync()
        {
            if (OperatingSystem.IsLinux())
            {
                // fdatasync skips the inode's timestamps; the WAL preallocates its segments, so
                // the size and block map do not change under it either and one flush suffices.
                var fd = (int)handle.DangerousGetHandle();
                if (NativeMethods.fdatasync(fd) != 0)
                {
                    throw new IOException($"fdatasync failed: errno {Marshal.GetLastPInvokeError()}");
                }
            }
            else
            {
                RandomAccess.FlushToDisk(handle);
            }
            _unsynced = false;
        }

        public void Append(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers)
        {
            if (!_unsynced && Direct() is { } direct)
            {
                bool appended;
                try
                {
                    appended = direct.TryAppend(handle, offset, buffers);
                }
                catch (IOException) when (!_directWorked)
                {
                    // The file system took O_DIRECT at open but refuses the write itself: use the
                    // page cache for this file from now on. A device error fails the buffered
                    // write below as well.
                    direct.Dispose();
                    _direct = null;
                    appended = false;
                }
                if (appended)
                {
                    _directWorked = true;
                    Interlocked.Increment(ref owner._directAppends);
                    return;
                }
            }
            Write(offset, buffers);
            Sync();
        }

        private DirectAppender? Direct()
        {
            if (!_directTried)
            {
                _directTried = true;
                _direct = DirectAppender.TryOpen(handle);
            }
            return _direct;
        }

        public void Dispose()
        {
            _direct?.Dispose();
            handle.Dispose();
        }
    }
}
