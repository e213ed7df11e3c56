using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ketch.Wal.IO;

/// <summary>The real file system: positional I/O through <see cref="RandomAccess"/>, durability
/// through fdatasync(2) on Linux (fsync elsewhere).</summary>
internal sealed class OsFileSystem : IWalFileSystem
{
    public static OsFileSystem Instance { get; } = new();

    public IWalFile Open(string path, bool create) =>
        new OsFile(File.OpenHandle(path, create ? FileMode.OpenOrCreate : FileMode.Open, FileAccess.ReadWrite, FileShare.Read));

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

    private sealed class OsFile(SafeFileHandle handle) : IWalFile
    {
        public long Length => RandomAccess.GetLength(handle);

        public void SetLength(long length) => RandomAccess.SetLength(handle, length);

        public void Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers)
        {
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
                return;
            }
            RandomAccess.FlushToDisk(handle);
        }

        public void Dispose() => handle.Dispose();
    }
}
