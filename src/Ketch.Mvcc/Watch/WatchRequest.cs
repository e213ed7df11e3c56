namespace Ketch.Mvcc;

/// <summary>What a watcher watches (etcd's <c>WatchCreateRequest</c>).</summary>
public sealed class WatchRequest
{
    /// <summary>The key, or the first key of the range.</summary>
    public required byte[] Key { get; init; }

    /// <summary>The end of the range, with the conventions of <see cref="RangeRequest.RangeEnd"/>.</summary>
    public byte[]? RangeEnd { get; init; }

    /// <summary>The first revision to deliver; 0 for the next one.</summary>
    public long StartRevision { get; init; }

    /// <summary>Leave out put events.</summary>
    public bool NoPut { get; init; }

    /// <summary>Leave out delete events.</summary>
    public bool NoDelete { get; init; }

    /// <summary>Attach the previous key-value to every event.</summary>
    public bool PrevKv { get; init; }
}
