namespace Ketch.Mvcc.Backend.Rocks;

/// <summary>A consistent view of a <see cref="RocksDatabase"/> (<c>rocksdb_snapshot_t</c>), released
/// on dispose; dispose it before the database.</summary>
internal sealed class RocksSnapshot : IDisposable
{
    private readonly RocksDatabase _db;

    internal RocksSnapshot(RocksDatabase db, nint snapshot)
    {
        _db = db;
        Handle = snapshot;
    }

    internal nint Handle { get; private set; }

    public void Dispose()
    {
        if (Handle != 0)
        {
            RocksNative.rocksdb_release_snapshot(_db.Handle, Handle);
            Handle = 0;
        }
    }
}
