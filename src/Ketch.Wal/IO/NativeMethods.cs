using System.Runtime.InteropServices;

namespace Ketch.Wal.IO;

/// <summary>The few libc calls .NET does not expose: fdatasync and fsync of a directory.</summary>
internal static class NativeMethods
{
    public const int ORdOnly = 0;
    public const int ODirectory = 0x10000; // Linux x86-64 and arm64 value of O_DIRECTORY.

#pragma warning disable SYSLIB1054 // LibraryImport would need AllowUnsafeBlocks for its generated stubs.
    [DllImport("libc", SetLastError = true)]
    public static extern int fdatasync(int fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
    public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);
#pragma warning restore SYSLIB1054
}
