namespace Ketch.Raft.Tests.Interaction;

/// <summary>Writes the Raft logger's lines into the script output, from a chosen level up.</summary>
internal sealed class InteractionLogger(InteractionEnv env) : IRaftLogger
{
    /// <summary>The lowest level shown; null hides everything.</summary>
    public RaftLogLevel? MinLevel { get; set; } = RaftLogLevel.Info;

    public bool IsEnabled(RaftLogLevel level) => MinLevel is { } min && level >= min;

    public void Log(RaftLogLevel level, string message)
    {
        if (IsEnabled(level))
        {
            env.Line(Prefix(level) + message);
        }
    }

    private static string Prefix(RaftLogLevel level) => level switch
    {
        RaftLogLevel.Debug => "DEBUG ",
        RaftLogLevel.Info => "INFO ",
        RaftLogLevel.Warning => "WARN ",
        _ => "ERROR ",
    };
}
