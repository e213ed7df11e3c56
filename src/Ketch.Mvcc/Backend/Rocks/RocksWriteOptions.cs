namespace Ketch.Mvcc.Backend.Rocks;

/// <summary>Write options (<c>rocksdb_writeoptions_t</c>): whether a write waits for its WAL fsync.</summary>
internal sealed class RocksWriteOptions : IDisposable
{
    public RocksWriteOptions(bool sync)
    {
        Handle = RocksNative.rocksdb_writeoptions_create();
        RocksNative.rocksdb_writeoptions_set_sync(Handle, sync ? (byte)1 : (byte)0);
    }

    internal nint Handle { get; private set; }

    public void Dispose()
    {
        if (Handle != 0)
        {
            RocksNative.rocksdb_writeoptions_destroy(Handle);
            Handle = 0;
        }
    }
}
