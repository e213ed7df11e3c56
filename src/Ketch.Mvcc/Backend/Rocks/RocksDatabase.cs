namespace Ketch.Mvcc.Backend.Rocks;

/// <summary>
/// An open RocksDB database (<c>rocksdb_t</c>). Not thread-safe to dispose: the owner makes sure
/// no call, iterator or snapshot is in use when it closes the database.
/// </summary>
internal sealed unsafe class RocksDatabase : IDisposable
{
    private readonly nint _readOptions; // default read options, for Get
    private nint _db;

    private RocksDatabase(nint db)
    {
        _db = db;
        _readOptions = RocksNative.rocksdb_readoptions_create();
    }

    /// <summary>Opens the database in <paramref name="directory"/>.</summary>
    /// <param name="directory">The database directory.</param>
    /// <param name="createIfMissing">Create an empty database when there is none.</param>
    /// <param name="parallelism">Background threads for flushes and compactions (0: RocksDB's default).</param>
    /// <param name="writeBufferBytes">Memtable size (0: RocksDB's default, 64 MiB).</param>
    /// <exception cref="RocksException">RocksDB refused (no database, locked, corrupt).</exception>
    public static RocksDatabase Open(string directory, bool createIfMissing, int parallelism = 0, ulong writeBufferBytes = 0)
    {
        var options = RocksNative.rocksdb_options_create();
        try
        {
            RocksNative.rocksdb_options_set_create_if_missing(options, createIfMissing ? (byte)1 : (byte)0);
            if (parallelism > 0)
            {
                RocksNative.rocksdb_options_increase_parallelism(options, parallelism);
            }
            if (writeBufferBytes > 0)
            {
                RocksNative.rocksdb_options_set_write_buffer_size(options, (nuint)writeBufferBytes);
            }
            byte* error = null;
            var db = RocksNative.rocksdb_open(options, directory, &error);
            RocksNative.ThrowIfError(error);
            return new RocksDatabase(db);
        }
        finally
        {
            // rocksdb_open copies what it needs from the options.
            RocksNative.rocksdb_options_destroy(options);
        }
    }

    /// <summary>The native handle; throws once closed, rather than handing freed memory to RocksDB.</summary>
    internal nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_db == 0, this);
            return _db;
        }
    }

    /// <summary>The value of <paramref name="key"/>, or null if there is none.</summary>
    public byte[]? Get(ReadOnlySpan<byte> key)
    {
        nuint length;
        byte* error = null;
        byte* value;
        fixed (byte* k = key)
        {
            value = RocksNative.rocksdb_get(Handle, _readOptions, k, (nuint)key.Length, &length, &error);
        }
        RocksNative.ThrowIfError(error);
        if (value is null)
        {
            return null;
        }
        try
        {
            return new ReadOnlySpan<byte>(value, checked((int)length)).ToArray();
        }
        finally
        {
            RocksNative.rocksdb_free(value);
        }
    }

    /// <summary>Writes <paramref name="batch"/> atomically; with <paramref name="options"/> synced or not.</summary>
    public void Write(RocksWriteBatch batch, RocksWriteOptions options)
    {
        byte* error = null;
        RocksNative.rocksdb_write(Handle, options.Handle, batch.Handle, &error);
        RocksNative.ThrowIfError(error);
    }

    /// <summary>An iterator over the keys below <paramref name="upperBound"/> (all keys when null),
    /// as of <paramref name="snapshot"/> (now when null).</summary>
    /// <param name="upperBound">The exclusive upper bound.</param>
    /// <param name="snapshot">The snapshot to read.</param>
    /// <param name="fillCache">Whether the blocks read go into the block cache (false for scans
    /// that read everything once).</param>
    public RocksIterator NewIterator(ReadOnlySpan<byte> upperBound = default, RocksSnapshot? snapshot = null, bool fillCache = true) =>
        new(this, upperBound, snapshot, fillCache);

    /// <summary>A consistent view of the database as of now; dispose it before the database.</summary>
    public RocksSnapshot CreateSnapshot() => new(this, RocksNative.rocksdb_create_snapshot(Handle));

    /// <summary>Compacts the keys from <paramref name="start"/> to <paramref name="limit"/>; an
    /// empty bound is open (both empty: the whole key space).</summary>
    public void CompactRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> limit)
    {
        fixed (byte* s = start, l = limit)
        {
            RocksNative.rocksdb_compact_range(Handle, start.IsEmpty ? null : s, (nuint)start.Length, limit.IsEmpty ? null : l, (nuint)limit.Length);
        }
    }

    /// <summary>A database property (<c>rocksdb.total-sst-files-size</c>, ...), null if unknown.</summary>
    public string? GetProperty(string name)
    {
        var value = RocksNative.rocksdb_property_value(Handle, name);
        if (value is null)
        {
            return null;
        }
        try
        {
            return System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)value);
        }
        finally
        {
            RocksNative.rocksdb_free(value);
        }
    }

    /// <summary>Closes the database (flushing nothing: its write-ahead log has every write).</summary>
    public void Dispose()
    {
        if (_db == 0)
        {
            return;
        }
        RocksNative.rocksdb_close(_db);
        RocksNative.rocksdb_readoptions_destroy(_readOptions);
        _db = 0;
    }
}
