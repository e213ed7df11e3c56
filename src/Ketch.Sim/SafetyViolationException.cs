namespace Ketch.Sim;

/// <summary>Thrown by the checkers: a Raft property does not hold. The simulator catches it
/// and turns it into a <see cref="SimResult"/> with the seed, the replay command and a trace.</summary>
internal sealed class SafetyViolationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SafetyViolationException(ViolationKind kind, string message)
        : base($"{kind}: {message}")
    {
        Kind = kind;
    }

    /// <summary>The property broken.</summary>
    public ViolationKind Kind { get; }
}
