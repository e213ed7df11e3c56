using System.Globalization;

namespace Ketch.Server.Http;

/// <summary>
/// The process's descriptors and limits as Prometheus' process collector reports them on Linux
/// (<c>process_open_fds</c>, <c>process_max_fds</c>, <c>process_virtual_memory_max_bytes</c>), read
/// from <c>/proc/self</c>. Null elsewhere, where those series are left out as Go's collector does.
/// </summary>
internal sealed record ProcessLimits(long OpenFds, double MaxFds, double MaxAddressSpace)
{
    /// <summary>An unlimited limit, as the collector prints it (2^64 - 1 as a float).</summary>
    private const double Unlimited = 18446744073709551615d;

    public static ProcessLimits? Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        try
        {
            var open = Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount();
            double maxFds = Unlimited, maxAddress = Unlimited;
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                // "Max open files            1048576              1048576              files"
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    maxFds = SoftLimit(line["Max open files".Length..]);
                }
                else if (line.StartsWith("Max address space", StringComparison.Ordinal))
                {
                    maxAddress = SoftLimit(line["Max address space".Length..]);
                }
            }
            return new ProcessLimits(open, maxFds, maxAddress);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double SoftLimit(string columns)
    {
        var soft = columns.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return soft == "unlimited" ? Unlimited : double.Parse(soft, CultureInfo.InvariantCulture);
    }
}
