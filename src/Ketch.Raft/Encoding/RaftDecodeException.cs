namespace Ketch.Raft.Encoding;

/// <summary>Bytes that are not a valid encoding of a Raft record: truncated, or with a field
/// out of range. The message says what and at which offset.</summary>
public sealed class RaftDecodeException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public RaftDecodeException(string message) : base(message)
    {
    }
}
