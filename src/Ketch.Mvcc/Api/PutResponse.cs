namespace Ketch.Mvcc;

/// <summary>The answer to a <see cref="PutRequest"/>.</summary>
public sealed class PutResponse
{
    /// <summary>The revision of the write (the header revision).</summary>
    public long Revision { get; init; }

    /// <summary>The previous key-value if requested and the key existed.</summary>
    public KeyValue? PrevKv { get; init; }
}
