using System.Runtime.InteropServices;

namespace Ketch.Wal.IO;

/// <summary>The few libc calls .NET does not expose: fdatasync, fsync of a directory, and open(2)
/// with flags FileStream has no name for (O_DIRECTORY, O_DIRECT, O_DSYNC).</summary>
internal static class NativeMethods
{
    public const int ORdOnly = 0;
    public const int OWrOnly = 1;
    public const int ODsync = 0x1000;      // the same on x86-64 and arm64
    public const int OCloexec = 0x80000;   // the same on x86-64 and arm64

    // O_DIRECTORY and O_DIRECT differ between the two (asm-generic vs x86 fcntl.h); 0 where unknown.
    public static readonly int ODirectory = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.Arm64 => 0x4000,
        _ => 0x10000,
    };

    public static readonly int ODirect = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 0x4000,
        Architecture.Arm64 => 0x10000,
        _ => 0,
    };

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
