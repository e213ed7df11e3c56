namespace Ketch.Mvcc;

/// <summary>A write of one key (etcd's <c>PutRequest</c>).</summary>
public sealed class PutRequest
{
    /// <summary>The key.</summary>
    public required byte[] Key { get; init; }

    /// <summary>The value.</summary>
    public byte[] Value { get; init; } = [];

    /// <summary>The lease to attach, 0 for none.</summary>
    public long Lease { get; init; }

    /// <summary>Return the previous key-value.</summary>
    public bool PrevKv { get; init; }

    /// <summary>Keep the current value (the key must exist).</summary>
    public bool IgnoreValue { get; init; }

    /// <summary>Keep the current lease (the key must exist).</summary>
    public bool IgnoreLease { get; init; }
}
