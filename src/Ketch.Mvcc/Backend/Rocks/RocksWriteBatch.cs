namespace Ketch.Mvcc.Backend.Rocks;

/// <summary>Puts and deletes written together by <see cref="RocksDatabase.Write"/>
/// (<c>rocksdb_writebatch_t</c>; it copies the bytes it is given).</summary>
internal sealed unsafe class RocksWriteBatch : IDisposable
{
    private nint _batch = RocksNative.rocksdb_writebatch_create();

    internal nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_batch == 0, this);
            return _batch;
        }
    }

    /// <summary>The number of operations in the batch.</summary>
    public int Count => RocksNative.rocksdb_writebatch_count(Handle);

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        fixed (byte* k = key, v = value)
        {
            RocksNative.rocksdb_writebatch_put(Handle, k, (nuint)key.Length, v, (nuint)value.Length);
        }
    }

    public void Delete(ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key)
        {
            RocksNative.rocksdb_writebatch_delete(Handle, k, (nuint)key.Length);
        }
    }

    public void Clear() => RocksNative.rocksdb_writebatch_clear(Handle);

    public void Dispose()
    {
        if (_batch != 0)
        {
            RocksNative.rocksdb_writebatch_destroy(_batch);
            _batch = 0;
        }
    }
}
