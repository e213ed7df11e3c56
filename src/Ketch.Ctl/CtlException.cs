namespace Ketch.Ctl;

/// <summary>etcdctl's exit codes.</summary>
internal static class ExitCode
{
    public const int Success = 0;
    public const int Error = 1;
    public const int BadConnection = 2;
    public const int InvalidInput = 3;
    public const int BadFeature = 4;
    public const int Interrupted = 5;
    public const int IO = 6;
    public const int BadArgs = 128;
}

/// <summary>Ends the command with <c>Error: message</c> on stderr and the given exit code.</summary>
internal sealed class CtlException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
