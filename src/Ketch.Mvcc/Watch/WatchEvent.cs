namespace Ketch.Mvcc;

/// <summary>One change seen by a watcher (etcd's <c>mvccpb.Event</c>).</summary>
public sealed class WatchEvent
{
    private WatchEvent? _withoutPrev;

    /// <summary>The kind of change.</summary>
    public WatchEventType Type { get; init; }

    /// <summary>
    /// The key-value after the change; for a deletion only the key and the deletion's mod revision
    /// are set, as etcd.
    /// </summary>
    public required KeyValue Kv { get; init; }

    /// <summary>The key-value before the change, when the watcher asked for it and it is known.</summary>
    public KeyValue? PrevKv { get; init; }

    /// <summary>This event without <see cref="PrevKv"/>, shared between watchers.</summary>
    internal WatchEvent WithoutPrev() =>
        PrevKv is null ? this : _withoutPrev ??= new WatchEvent { Type = Type, Kv = Kv };
}
