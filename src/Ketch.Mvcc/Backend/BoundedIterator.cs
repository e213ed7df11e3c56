using RocksDbSharp;

namespace Ketch.Mvcc.Backend;

/// <summary>
/// A RocksDB iterator together with the <see cref="ReadOptions"/> it was created from, kept alive
/// until the iterator is disposed. RocksDB's C API stores the iterate-upper-bound as a pointer into
/// the native read options, and RocksDbSharp frees those (and the bound's bytes) in the
/// <see cref="ReadOptions"/> finalizer while the <see cref="Iterator"/> holds no managed reference to
/// them: an iterator that outlives its options reads freed memory. Under a long scan with garbage
/// collections in between (index rebuild after a snapshot install of a large store) that crashed a
/// member with SIGSEGV. Owning both in one object makes the lifetime explicit.
/// </summary>
internal sealed class BoundedIterator : IDisposable
{
    private readonly ReadOptions _options;

    public BoundedIterator(RocksDb db, ReadOptions options)
    {
        _options = options;
        Iterator = db.NewIterator(null, options);
    }

    /// <summary>The iterator; valid until <see cref="Dispose"/>.</summary>
    public Iterator Iterator { get; }

    public void Dispose()
    {
        Iterator.Dispose();
        GC.KeepAlive(_options);
    }
}
