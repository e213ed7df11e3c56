namespace Ketch.Mvcc;

/// <summary>Where a watcher stands.</summary>
internal enum WatcherState
{
    /// <summary>Every revision up to the current one was queued; the writer delivers new ones.</summary>
    Synced,

    /// <summary>Behind: the reader catches up from the backend from <see cref="Watcher.NextRev"/>.</summary>
    Unsynced,

    /// <summary>Cancelled; nothing more is queued.</summary>
    Canceled,
}
