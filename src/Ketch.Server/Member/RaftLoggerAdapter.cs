using Ketch.Raft;
using Microsoft.Extensions.Logging;

namespace Ketch.Server.Member;

/// <summary>Raft's log lines into Microsoft.Extensions.Logging.</summary>
internal sealed class RaftLoggerAdapter(ILogger logger) : IRaftLogger
{
    public bool IsEnabled(RaftLogLevel level) => logger.IsEnabled(Map(level));

    public void Log(RaftLogLevel level, string message)
    {
#pragma warning disable CA2254 // the Raft core formats its own lines
        logger.Log(Map(level), message);
#pragma warning restore CA2254
    }

    private static LogLevel Map(RaftLogLevel level) => level switch
    {
        RaftLogLevel.Debug => LogLevel.Debug,
        RaftLogLevel.Info => LogLevel.Information,
        RaftLogLevel.Warning => LogLevel.Warning,
        _ => LogLevel.Error,
    };
}
