namespace Ketch.Wal;

/// <summary>
/// The WAL or a snapshot file holds bytes that are neither valid records nor a torn tail that a
/// crash could have left: bit rot, a zeroed hole, a missing segment. Never repaired silently:
/// the operator decides (restore from a peer or a backup).
/// </summary>
public sealed class WalCorruptionException : IOException
{
    /// <summary>Creates the exception for <paramref name="file"/> at <paramref name="offset"/>.</summary>
    public WalCorruptionException(string file, long offset, string reason)
        : base($"WAL corruption in {file} at offset {offset}: {reason}")
    {
        FilePath = file;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The damaged file.</summary>
    public string FilePath { get; }

    /// <summary>The byte offset of the damaged record (or region) in <see cref="FilePath"/>.</summary>
    public long Offset { get; }

    /// <summary>What is wrong there.</summary>
    public string Reason { get; }
}
