namespace Ketch.Mvcc;

/// <summary>A deletion of a key or range (etcd's <c>DeleteRangeRequest</c>).</summary>
public sealed class DeleteRangeRequest
{
    /// <summary>The first key.</summary>
    public required byte[] Key { get; init; }

    /// <summary>The end of the range, with the conventions of <see cref="RangeRequest.RangeEnd"/>.</summary>
    public byte[]? RangeEnd { get; init; }

    /// <summary>Return the deleted key-values.</summary>
    public bool PrevKv { get; init; }
}
