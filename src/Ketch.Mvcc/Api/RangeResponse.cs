namespace Ketch.Mvcc;

/// <summary>The answer to a <see cref="RangeRequest"/> (etcd's <c>RangeResponse</c>).</summary>
public sealed class RangeResponse
{
    /// <summary>The store's current revision when the range was served (the header revision).</summary>
    public long Revision { get; init; }

    /// <summary>The keys found, at most the request's limit.</summary>
    public IReadOnlyList<KeyValue> Kvs { get; init; } = [];

    /// <summary>True when the limit cut the result short.</summary>
    public bool More { get; init; }

    /// <summary>The number of keys in the whole range at the revision read, before filters and limit.</summary>
    public long Count { get; init; }
}
