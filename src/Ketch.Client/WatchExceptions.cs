namespace Ketch.Client;

/// <summary>The server canceled a watch (other than for compaction); the watch cannot continue.</summary>
public class WatchCanceledException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The server's cancel reason.</param>
    public WatchCanceledException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public WatchCanceledException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public WatchCanceledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The revision the watch asked for has been compacted away: events were lost for this watcher.
/// Re-read the state (e.g. a Get at <see cref="CompactRevision"/> or later) and watch again from there.</summary>
public sealed class WatchCompactedException : WatchCanceledException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="compactRevision">The server's compact revision.</param>
    /// <param name="requestedRevision">The first revision the watch needed.</param>
    public WatchCompactedException(long compactRevision, long requestedRevision)
        : base($"etcdserver: mvcc: required revision has been compacted (watch needed revision {requestedRevision}, compacted up to {compactRevision})")
    {
        CompactRevision = compactRevision;
        RequestedRevision = requestedRevision;
    }

    /// <summary>The compact revision reported by the server: the oldest revision still available.</summary>
    public long CompactRevision { get; }

    /// <summary>The first revision this watch needed.</summary>
    public long RequestedRevision { get; }
}
