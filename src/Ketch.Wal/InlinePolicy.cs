using System.Diagnostics;

namespace Ketch.Wal;

/// <summary>
/// Decides, for an append that finds the WAL idle, whether its caller writes and syncs it on its own
/// thread (inline) or hands it to the writer thread. Which is faster is a property of the machine,
/// and it has gone both ways (docs/wal.md, "Inline or handoff"): on one VM a caller syncing itself
/// ran at 0.4-0.8x the handoff, on another the handoff's two thread wake-ups cost ~30 us per append
/// (the WAL at 0.77x the raw fdatasync rate against 1.04x inline).
/// <para>
/// So the policy measures. For a closed-loop appender (the Raft loop persisting one Ready after
/// another) the time from one idle append to the next is one whole cycle: the write, the sync, the
/// completion and the caller coming back. The policy uses the mode whose cycles were shorter, and
/// after every <see cref="ExploitRun"/> idle appends tries the other one for <see cref="ProbeRun"/>;
/// it switches when the other's mean cycle was shorter by more than 5 %. Gaps above 10 ms (the
/// caller was doing something else) are not counted, and a mode is judged only on enough cycles.
/// </para>
/// </summary>
internal sealed class InlinePolicy
{
    /// <summary>Idle appends in the current mode between two probes of the other.</summary>
    internal const int ExploitRun = 480;

    /// <summary>Idle appends in the other mode per probe.</summary>
    internal const int ProbeRun = 32;

    private static readonly long s_maxCycle = Stopwatch.Frequency / 100;

    private readonly Lock _lock = new();
    private bool _inline;
    private bool _probing;
    private int _left = ExploitRun;
    private long _last;
    private bool _lastWasProbe;
    private long _exploitTicks;
    private int _exploitCycles;
    private long _probeTicks;
    private int _probeCycles;

    /// <summary>The mode used outside probes.</summary>
    public bool PrefersInline
    {
        get
        {
            lock (_lock)
            {
                return _inline;
            }
        }
    }

    /// <summary>Whether the idle append arriving at <paramref name="timestamp"/>
    /// (<see cref="Stopwatch.GetTimestamp"/>) should be written inline.</summary>
    public bool Choose(long timestamp)
    {
        lock (_lock)
        {
            if (_last != 0 && timestamp - _last is var cycle and > 0 && cycle <= s_maxCycle)
            {
                // The cycle that just ended belongs to the mode the previous append used.
                if (_lastWasProbe)
                {
                    _probeTicks += cycle;
                    _probeCycles++;
                }
                else
                {
                    _exploitTicks += cycle;
                    _exploitCycles++;
                }
            }
            _last = timestamp;
            if (--_left <= 0)
            {
                if (_probing)
                {
                    const int enough = ProbeRun / 2;
                    if (_probeCycles >= enough && _exploitCycles >= enough
                        && _probeTicks * 100.0 / _probeCycles < _exploitTicks * 95.0 / _exploitCycles)
                    {
                        _inline = !_inline;
                    }
                    (_exploitTicks, _exploitCycles, _probeTicks, _probeCycles) = (0, 0, 0, 0);
                    _probing = false;
                    _left = ExploitRun;
                }
                else
                {
                    _probing = true;
                    _left = ProbeRun;
                }
            }
            _lastWasProbe = _probing;
            return _probing ? !_inline : _inline;
        }
    }
}
