namespace Ketch.Raft;

/// <summary>A membership change that cannot be applied to the current configuration (for
/// example, changing two voters without joint consensus). The application should validate
/// changes before proposing them; applying an invalid one is refused with this exception.</summary>
public sealed class ConfChangeException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public ConfChangeException(string message) : base(message)
    {
    }
}
