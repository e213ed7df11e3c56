namespace Ketch.Raft;

/// <summary>
/// Copies entry payloads into fresh arrays of at most <see cref="ChunkBytes"/>, each shared by the
/// payloads it holds, instead of one array for a whole batch.
/// </summary>
/// <remarks>
/// Why chunks: under a 1,000-client put load a batch of entries (a log slice to send or apply, an
/// append frame from the leader) often passes 85,000 bytes, and every array that large is born in
/// .NET's large-object heap, whose allocation budget triggers gen2 collections. In GC traces of
/// that load these batch arrays were the cause of every gen2 collection. 64 KiB chunks stay in the
/// ordinary young generation and die there. A payload of 64 KiB or more gets an array of its own.
/// </remarks>
public struct PayloadCopier
{
    /// <summary>The largest shared array, below the 85,000-byte large-object threshold.</summary>
    public const int ChunkBytes = 64 * 1024;

    private long _remaining;
    private byte[]? _chunk;
    private int _used;

    /// <summary>A copier for payloads that add up to <paramref name="totalBytes"/> (sizes the last chunk).</summary>
    public PayloadCopier(long totalBytes) => _remaining = totalBytes;

    /// <summary>A copy of <paramref name="data"/> in memory of its own.</summary>
    public ReadOnlyMemory<byte> Copy(ReadOnlySpan<byte> data)
    {
        _remaining -= data.Length;
        if (data.IsEmpty)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
        if (data.Length >= ChunkBytes)
        {
            return data.ToArray();
        }
        if (_chunk is null || _chunk.Length - _used < data.Length)
        {
            _chunk = new byte[(int)Math.Min(ChunkBytes, data.Length + Math.Max(_remaining, 0))];
            _used = 0;
        }
        data.CopyTo(_chunk.AsSpan(_used));
        var copy = _chunk.AsMemory(_used, data.Length);
        _used += data.Length;
        return copy;
    }
}
