namespace Ketch.Mvcc;

/// <summary>
/// One version of a key, as etcd's <c>mvccpb.KeyValue</c>. Instances are shared and must be treated
/// as immutable, byte arrays included.
/// </summary>
public sealed class KeyValue
{
    /// <summary>The key.</summary>
    public required byte[] Key { get; init; }

    /// <summary>The revision of the last creation of the key (0 for a deletion marker).</summary>
    public long CreateRevision { get; init; }

    /// <summary>The revision of the last modification of the key.</summary>
    public long ModRevision { get; init; }

    /// <summary>The number of modifications since the key was created (1 after the first put).</summary>
    public long Version { get; init; }

    /// <summary>The value; empty for a deletion marker and for keys-only ranges.</summary>
    public byte[] Value { get; init; } = [];

    /// <summary>The id of the lease attached to the key, 0 for none.</summary>
    public long Lease { get; init; }

    /// <summary>True for the deletion marker (tombstone) that a delete leaves in the history.</summary>
    internal bool IsTombstone => CreateRevision == 0;

    /// <summary>Estimated memory footprint, used to bound caches.</summary>
    internal int SizeBytes => Key.Length + Value.Length + 96;

    /// <summary>A copy without the value, for keys-only ranges.</summary>
    internal KeyValue WithoutValue() => Value.Length == 0 ? this : new KeyValue
    {
        Key = Key,
        CreateRevision = CreateRevision,
        ModRevision = ModRevision,
        Version = Version,
        Lease = Lease,
    };

    /// <inheritdoc/>
    public override string ToString() =>
        $"{{key={Convert.ToHexString(Key)} create={CreateRevision} mod={ModRevision} ver={Version} lease={Lease} value={Convert.ToHexString(Value)}}}";
}
