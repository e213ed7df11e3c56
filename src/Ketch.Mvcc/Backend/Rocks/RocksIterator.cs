using System.Runtime.InteropServices;

namespace Ketch.Mvcc.Backend.Rocks;

/// <summary>
/// A RocksDB iterator (<c>rocksdb_iterator_t</c>) with the read options it was created from and
/// the bytes of its upper bound, all freed together on dispose. The C API keeps the upper bound as
/// a pointer into the read options, which point at the bound's bytes: both must outlive the
/// iterator, so the iterator owns them (a managed wrapper that freed them in a finalizer while the
/// iterator was still in use crashed a member with SIGSEGV during a long scan).
/// <see cref="Key"/> and <see cref="Value"/> are valid until the next move.
/// </summary>
internal sealed unsafe class RocksIterator : IDisposable
{
    private readonly nint _options;
    private byte* _upperBound;
    private nint _iterator;

    internal RocksIterator(RocksDatabase db, ReadOnlySpan<byte> upperBound, RocksSnapshot? snapshot, bool fillCache)
    {
        _options = RocksNative.rocksdb_readoptions_create();
        RocksNative.rocksdb_readoptions_set_fill_cache(_options, fillCache ? (byte)1 : (byte)0);
        if (snapshot is not null)
        {
            RocksNative.rocksdb_readoptions_set_snapshot(_options, snapshot.Handle);
        }
        if (!upperBound.IsEmpty)
        {
            _upperBound = (byte*)NativeMemory.Alloc((nuint)upperBound.Length);
            upperBound.CopyTo(new Span<byte>(_upperBound, upperBound.Length));
            RocksNative.rocksdb_readoptions_set_iterate_upper_bound(_options, _upperBound, (nuint)upperBound.Length);
        }
        _iterator = RocksNative.rocksdb_create_iterator(db.Handle, _options);
    }

    private nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_iterator == 0, this);
            return _iterator;
        }
    }

    /// <summary>Whether the iterator is on an entry. At the end, an error RocksDB met while
    /// iterating (a corrupt block, an I/O error) is thrown rather than taken for the end.</summary>
    public bool Valid()
    {
        if (RocksNative.rocksdb_iter_valid(Handle) != 0)
        {
            return true;
        }
        byte* error = null;
        RocksNative.rocksdb_iter_get_error(_iterator, &error);
        RocksNative.ThrowIfError(error);
        return false;
    }

    public void SeekToFirst() => RocksNative.rocksdb_iter_seek_to_first(Handle);

    public void Seek(ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key)
        {
            RocksNative.rocksdb_iter_seek(Handle, k, (nuint)key.Length);
        }
    }

    public void Next() => RocksNative.rocksdb_iter_next(Handle);

    /// <summary>The current key, in RocksDB's memory: valid until the next move.</summary>
    public ReadOnlySpan<byte> Key
    {
        get
        {
            nuint length;
            var key = RocksNative.rocksdb_iter_key(Handle, &length);
            return new ReadOnlySpan<byte>(key, checked((int)length));
        }
    }

    /// <summary>The current value, in RocksDB's memory: valid until the next move.</summary>
    public ReadOnlySpan<byte> Value
    {
        get
        {
            nuint length;
            var value = RocksNative.rocksdb_iter_value(Handle, &length);
            return new ReadOnlySpan<byte>(value, checked((int)length));
        }
    }

    public void Dispose()
    {
        if (_iterator == 0)
        {
            return;
        }
        RocksNative.rocksdb_iter_destroy(_iterator);
        _iterator = 0;
        RocksNative.rocksdb_readoptions_destroy(_options);
        if (_upperBound is not null)
        {
            NativeMemory.Free(_upperBound);
            _upperBound = null;
        }
    }
}
