using Ketch.Raft;

namespace Ketch.Sim;

/// <summary>Puts the Raft core's own log lines into the trace (verbose replays only).</summary>
internal sealed class TraceRaftLogger(Trace trace, Func<long> now, ulong member) : IRaftLogger
{
    /// <inheritdoc />
    public bool IsEnabled(RaftLogLevel level) => level >= RaftLogLevel.Info;

    /// <inheritdoc />
    public void Log(RaftLogLevel level, string message) =>
        trace.Add(new TraceEvent(now(), TraceKind.Note, member, null, "raft: " + message, 0, 0));
}
