namespace Ketch.Mvcc;

/// <summary>The kind of a <see cref="WatchEvent"/>.</summary>
public enum WatchEventType
{
    /// <summary>A key was created or updated.</summary>
    Put,

    /// <summary>A key was deleted.</summary>
    Delete,
}
