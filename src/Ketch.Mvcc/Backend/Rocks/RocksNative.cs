using System.Runtime.InteropServices;

namespace Ketch.Mvcc.Backend.Rocks;

/// <summary>
/// The part of RocksDB's C API (<c>rocksdb/c.h</c>) the backend uses, bound directly to the
/// <c>librocksdb.so</c> that the <c>RocksDB</c> NuGet package ships. The package's own managed
/// wrapper binds all of its ~2,100 functions at first use by emitting a type with Reflection.Emit:
/// 345 ms of every member's start on this machine (median of 3 runs, `Native.Instance` timed
/// alone), for the 35 functions used here. Generated stubs (LibraryImport) cost nothing at start.
/// Errors come back as a malloc'd message in <c>errptr</c>, freed with <see cref="rocksdb_free"/>.
/// </summary>
internal static unsafe partial class RocksNative
{
    private const string Library = "rocksdb";

    /// <summary>
    /// Finds the library where the runtime's own probing does not: an application built for a
    /// runtime identifier has it next to its assemblies (found through its deps.json), but one built
    /// without (a test project that starts <c>ketch.dll</c> from its own output) keeps the package's
    /// <c>runtimes/&lt;rid&gt;/native/</c> folder.
    /// </summary>
    /// <remarks>An explicit static constructor runs before the first call of any function below.</remarks>
    static RocksNative() =>
        NativeLibrary.SetDllImportResolver(typeof(RocksNative).Assembly, static (name, assembly, searchPath) =>
        {
            if (name != Library)
            {
                return 0;
            }
            if (NativeLibrary.TryLoad(name, assembly, searchPath, out var handle))
            {
                return handle;
            }
            var (os, file) = OperatingSystem.IsWindows() ? ("win", "rocksdb.dll")
                : OperatingSystem.IsMacOS() ? ("osx", "librocksdb.dylib")
                : ("linux", "librocksdb.so");
            var rid = os + "-" + RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
            foreach (var dir in new[] { Path.GetDirectoryName(assembly.Location), AppContext.BaseDirectory })
            {
                if (string.IsNullOrEmpty(dir))
                {
                    continue;
                }
                foreach (var path in new[] { Path.Combine(dir, "runtimes", rid, "native", file), Path.Combine(dir, file) })
                {
                    if (File.Exists(path) && NativeLibrary.TryLoad(path, out handle))
                    {
                        return handle;
                    }
                }
            }
            return 0;
        });

    [LibraryImport(Library)]
    internal static partial void rocksdb_free(void* ptr);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_options_create();

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_destroy(nint options);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_create_if_missing(nint options, byte value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_increase_parallelism(nint options, int totalThreads);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_write_buffer_size(nint options, nuint size);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint rocksdb_open(nint options, string name, byte** errptr);

    [LibraryImport(Library)]
    internal static partial void rocksdb_close(nint db);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_writeoptions_create();

    [LibraryImport(Library)]
    internal static partial void rocksdb_writeoptions_destroy(nint options);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writeoptions_set_sync(nint options, byte value);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_writebatch_create();

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_destroy(nint batch);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_clear(nint batch);

    [LibraryImport(Library)]
    internal static partial int rocksdb_writebatch_count(nint batch);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_put(nint batch, byte* key, nuint keyLength, byte* value, nuint valueLength);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_delete(nint batch, byte* key, nuint keyLength);

    [LibraryImport(Library)]
    internal static partial void rocksdb_write(nint db, nint options, nint batch, byte** errptr);

    [LibraryImport(Library)]
    internal static partial byte* rocksdb_get(nint db, nint options, byte* key, nuint keyLength, nuint* valueLength, byte** errptr);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_readoptions_create();

    [LibraryImport(Library)]
    internal static partial void rocksdb_readoptions_destroy(nint options);

    [LibraryImport(Library)]
    internal static partial void rocksdb_readoptions_set_fill_cache(nint options, byte value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_readoptions_set_snapshot(nint options, nint snapshot);

    /// <summary>Keeps a pointer to <paramref name="key"/> (no copy): the bytes must outlive the options.</summary>
    [LibraryImport(Library)]
    internal static partial void rocksdb_readoptions_set_iterate_upper_bound(nint options, byte* key, nuint keyLength);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_create_iterator(nint db, nint options);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_destroy(nint iterator);

    [LibraryImport(Library)]
    internal static partial byte rocksdb_iter_valid(nint iterator);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_seek_to_first(nint iterator);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_seek(nint iterator, byte* key, nuint keyLength);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_next(nint iterator);

    [LibraryImport(Library)]
    internal static partial byte* rocksdb_iter_key(nint iterator, nuint* keyLength);

    [LibraryImport(Library)]
    internal static partial byte* rocksdb_iter_value(nint iterator, nuint* valueLength);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_get_error(nint iterator, byte** errptr);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_create_snapshot(nint db);

    [LibraryImport(Library)]
    internal static partial void rocksdb_release_snapshot(nint db, nint snapshot);

    [LibraryImport(Library)]
    internal static partial void rocksdb_compact_range(nint db, byte* startKey, nuint startKeyLength, byte* limitKey, nuint limitKeyLength);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial byte* rocksdb_property_value(nint db, string name);

    /// <summary>Throws <see cref="RocksException"/> for the error a call left in <paramref name="error"/>, freeing it.</summary>
    internal static void ThrowIfError(byte* error)
    {
        if (error is not null)
        {
            var message = Marshal.PtrToStringUTF8((nint)error) ?? "unknown RocksDB error";
            rocksdb_free(error);
            throw new RocksException(message);
        }
    }
}
