namespace Ketch.Raft;

/// <summary>How much a <see cref="IRaftLogger"/> message matters.</summary>
public enum RaftLogLevel : byte
{
    /// <summary>Step-by-step detail.</summary>
    Debug = 0,

    /// <summary>Role and term changes.</summary>
    Info = 1,

    /// <summary>Something unusual that Raft handles.</summary>
    Warning = 2,

    /// <summary>Something the application must look at.</summary>
    Error = 3,
}

/// <summary>
/// Where the state machine writes its log lines. Injected through <see cref="RaftConfig"/>
/// so the core stays free of any logging framework; the server adapts it to
/// Microsoft.Extensions.Logging, tests capture it in golden output.
/// </summary>
public interface IRaftLogger
{
    /// <summary>Whether messages at <paramref name="level"/> are wanted (checked before any
    /// formatting, so disabled levels cost nothing on hot paths).</summary>
    bool IsEnabled(RaftLogLevel level);

    /// <summary>Writes one line.</summary>
    void Log(RaftLogLevel level, string message);
}

/// <summary>A logger that drops everything.</summary>
public sealed class NullRaftLogger : IRaftLogger
{
    /// <summary>The shared instance.</summary>
    public static NullRaftLogger Instance { get; } = new();

    /// <inheritdoc />
    public bool IsEnabled(RaftLogLevel level) => false;

    /// <inheritdoc />
    public void Log(RaftLogLevel level, string message)
    {
    }
}
