namespace Ketch.Wal;

/// <summary>
/// A write or an fsync of the WAL failed earlier. After such a failure the WAL refuses every
/// further append: the kernel may have dropped the dirty pages, so nothing written since the last
/// good sync can be called durable (the "fsyncgate" lesson, PostgreSQL 2018). Reopen the WAL
/// (which re-reads what really is on disk) to continue.
/// </summary>
public sealed class WalFailedException : IOException
{
    /// <summary>Creates the exception.</summary>
    public WalFailedException(string message, Exception? inner) : base(message, inner)
    {
    }
}
