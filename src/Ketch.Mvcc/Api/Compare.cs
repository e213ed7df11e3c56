namespace Ketch.Mvcc;

/// <summary>A guard of a transaction (etcd's <c>Compare</c>).</summary>
public sealed class Compare
{
    /// <summary>The key compared.</summary>
    public required byte[] Key { get; init; }

    /// <summary>Compare every key in [Key, RangeEnd) instead; conventions of <see cref="RangeRequest.RangeEnd"/>.</summary>
    public byte[]? RangeEnd { get; init; }

    /// <summary>What is compared.</summary>
    public CompareTarget Target { get; init; }

    /// <summary>How it is compared.</summary>
    public CompareResult Result { get; init; }

    /// <summary>The operand for version, create, mod and lease targets.</summary>
    public long Number { get; init; }

    /// <summary>The operand for the value target.</summary>
    public byte[] Value { get; init; } = [];
}
