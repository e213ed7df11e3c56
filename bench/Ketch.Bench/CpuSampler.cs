using System.Diagnostics;
using System.Globalization;

namespace Ketch.Bench;

/// <summary>
/// CPU time used over the measured window by this process and, when the servers run on this
/// machine (<c>--cpu-pids</c>), by the server processes: user + system time from
/// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s, Linux's USER_HZ). It tells
/// whether a ratio comes from CPU per request, and how much of the machine the client took.
/// </summary>
internal sealed class CpuSampler
{
    private const double TicksPerSecond = 100;

    private readonly IReadOnlyList<int> _pids;
    private readonly TimeSpan _clientStart;
    private readonly long _serverStartTicks;

    private CpuSampler(IReadOnlyList<int> pids)
    {
        _pids = pids;
        _clientStart = Process.GetCurrentProcess().TotalProcessorTime;
        _serverStartTicks = ServerTicks(pids) ?? 0;
    }

    public static CpuSampler Start(BenchOptions options) => new(options.CpuPids);

    /// <summary>Client CPU seconds and server CPU seconds (null without pids, or when one exited) since start.</summary>
    public (double ClientSeconds, double? ServerSeconds) Stop()
    {
        var client = (Process.GetCurrentProcess().TotalProcessorTime - _clientStart).TotalSeconds;
        double? server = _pids.Count == 0 || ServerTicks(_pids) is not { } end ? null : (end - _serverStartTicks) / TicksPerSecond;
        return (client, server);
    }

    /// <summary>Sum of utime + stime of the processes, or null if one cannot be read.</summary>
    internal static long? ServerTicks(IReadOnlyList<int> pids)
    {
        long total = 0;
        foreach (var pid in pids)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
            if (ParseCpuTicks(stat) is not { } ticks)
            {
                return null;
            }
            total += ticks;
        }
        return total;
    }

    /// <summary>utime + stime of one /proc/PID/stat line; the command name (field 2) may hold spaces, so split after its ')'.</summary>
    internal static long? ParseCpuTicks(string stat)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }
        // After ')': field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 13
            || !long.TryParse(fields[11], NumberStyles.Integer, CultureInfo.InvariantCulture, out var user)
            || !long.TryParse(fields[12], NumberStyles.Integer, CultureInfo.InvariantCulture, out var system))
        {
            return null;
        }
        return user + system;
    }
}
