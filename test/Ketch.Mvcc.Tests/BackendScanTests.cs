using System.Runtime.InteropServices;
using Ketch.Mvcc.Backend;
using Xunit;

namespace Ketch.Mvcc.Tests;

/// <summary>
/// Scans stay inside their bucket while garbage collections run between steps. RocksDB's C API
/// keeps an iterator's upper bound as a pointer into its read options; when RocksDbSharp freed those
/// in a finalizer, an iterator that outlived its options read freed memory (a member crashed with
/// SIGSEGV rebuilding its index after a snapshot install). The iterator now owns them.
/// </summary>
public sealed class BackendScanTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<IntPtr> _blocks = [];

    public void Dispose()
    {
        foreach (var p in _blocks)
        {
            Marshal.FreeHGlobal(p);
        }

        _dir.Dispose();
    }

    [Fact]
    public void Revision_scan_interleaved_with_collections_returns_exactly_the_revisions()
    {
        const int revisions = 3_000;
        using var backend = new RocksBackend(_dir.Sub("db"), syncWrites: false, cacheBytes: 0);
        for (var i = 1; i <= revisions; i++)
        {
            backend.PutRevision(new Revision(i, 0), new KeyValue { Key = [(byte)'k'], Value = new byte[32], CreateRevision = i, ModRevision = i, Version = 1 });
        }

        // Entries of the next buckets, which a scan whose upper bound was freed could run into.
        for (var i = 0; i < 100; i++)
        {
            backend.PutBucket(BackendBucket.Meta, [(byte)i], [0xFF]);
            backend.PutBucket(BackendBucket.Lease, [(byte)i], [0xFF]);
        }

        backend.Commit();

        var seen = 0L;
        foreach (var (rev, kv) in backend.ScanRevisions(new Revision(1, 0)))
        {
            seen++;
            Assert.Equal(seen, rev.Main);
            Assert.Equal(seen, kv.ModRevision);
            if (seen % 500 == 0)
            {
                CollectAndReuseFreedNativeMemory();
            }
        }

        Assert.Equal(revisions, seen);
        CollectAndReuseFreedNativeMemory();
        Assert.Equal(100, backend.ReadBucket(BackendBucket.Meta).Count);
    }

    private void CollectAndReuseFreedNativeMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // Small native allocations filled with 0xFF land where a freed one-byte bound lived, turning
        // a dangling bound into "no bound". They stay allocated until the test ends.
        for (var i = 0; i < 256; i++)
        {
            var size = 1 + (i % 64);
            var block = Marshal.AllocHGlobal(size);
            _blocks.Add(block);
            for (var b = 0; b < size; b++)
            {
                Marshal.WriteByte(block, b, 0xFF);
            }
        }
    }
}

/// <summary>
/// The database size is read on every write request (quota check) by threads that may hold a store
/// that a snapshot install has just closed: it must answer, not touch the closed database.
/// </summary>
public sealed class DbSizeTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Db_size_grows_with_committed_writes_and_is_still_readable_after_close()
    {
        var store = KvStore.Open(Stores.Options(_dir.Path, batchLimit: 100_000));
        var before = store.DbSizeBytes;
        for (var i = 0; i < 2_000; i++)
        {
            store.Put(new PutRequest { Key = Stores.B($"key-{i}"), Value = new byte[256] });
        }

        store.Commit();
        var after = store.DbSizeBytes;
        Assert.True(after >= before + (2_000 * 256), $"size {before} -> {after} after 500 KiB of values");
        Assert.True(store.DbSizeInUseBytes > 0);

        store.Dispose();
        Assert.Equal(after, store.DbSizeBytes);
        Assert.Throws<ObjectDisposedException>(() => store.Range(new RangeRequest { Key = Stores.B("key-1") }));
    }

    [Fact]
    public void Db_size_counts_writes_not_yet_committed()
    {
        // The quota check reads this size on every write: a burst of puts must count before the
        // batch reaches RocksDB (by size or by the batch timer, which may run late).
        using var store = KvStore.Open(Stores.Options(_dir.Path, batchLimit: 100_000));
        var before = store.DbSizeBytes;
        for (var i = 0; i < 32; i++)
        {
            store.Put(new PutRequest { Key = Stores.B($"key-{i}"), Value = new byte[16 * 1024] });
        }

        var pending = store.DbSizeBytes;
        Assert.True(pending >= before + (32 * 16 * 1024), $"size {before} -> {pending} after 512 KiB of uncommitted values");
        store.Commit();
        Assert.True(store.DbSizeBytes >= before + (32 * 16 * 1024), $"size {before} -> {store.DbSizeBytes} after the commit");
    }
}
