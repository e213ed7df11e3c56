namespace Ketch.Mvcc;

/// <summary>The answer to a <see cref="DeleteRangeRequest"/>.</summary>
public sealed class DeleteRangeResponse
{
    /// <summary>The store's revision after the deletion (the header revision).</summary>
    public long Revision { get; init; }

    /// <summary>The number of keys deleted.</summary>
    public long Deleted { get; init; }

    /// <summary>The deleted key-values if requested.</summary>
    public IReadOnlyList<KeyValue> PrevKvs { get; init; } = [];
}
