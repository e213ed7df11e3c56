using System.Buffers.Binary;
using System.Security.Cryptography;
using Ketch.Mvcc.Backend;
using Ketch.Mvcc.Backend.Rocks;

namespace Ketch.Mvcc;

public sealed partial class KvStore
{
    private static readonly byte[] s_snapshotMagic = "KETCHSNP"u8.ToArray();
    private const uint SnapshotFormat = 1;
    private const uint EndOfRecords = uint.MaxValue;

    /// <summary>
    /// Writes the whole store (history, metadata, buckets) to <paramref name="output"/> as one
    /// consistent checkpoint: pending writes are committed, then a RocksDB snapshot is streamed, so
    /// writers are not held up while it is written. Format in docs/mvcc.md. Do not dispose the store
    /// while a snapshot is being written.
    /// </summary>
    public void Snapshot(Stream output)
    {
        RocksSnapshot snapshot;
        lock (_applyLock)
        {
            lock (_lock)
            {
                ThrowIfClosed();
                CommitBatch();
                snapshot = _backend.TakeSnapshot();
                Interlocked.Increment(ref _activeSnapshots);
            }
        }

        try
        {
            WriteSnapshot(output, snapshot);
        }
        finally
        {
            snapshot.Dispose();
            Interlocked.Decrement(ref _activeSnapshots);
        }
    }

    private void WriteSnapshot(Stream output, RocksSnapshot snapshot)
    {
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            Span<byte> header = stackalloc byte[12];
            s_snapshotMagic.CopyTo(header);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], SnapshotFormat);
            Emit(output, hash, header);
            _backend.ForEachCommitted(snapshot, (key, value) =>
            {
                Span<byte> length = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)key.Length);
                Emit(output, hash, length);
                Emit(output, hash, key);
                BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)value.Length);
                Emit(output, hash, length);
                Emit(output, hash, value);
            });
            Span<byte> end = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(end, EndOfRecords);
            Emit(output, hash, end);
            output.Write(hash.GetHashAndReset());
        }
    }

    /// <summary>
    /// Creates a store in <see cref="KvStoreOptions.Directory"/> (which must be missing or empty) from
    /// a stream written by <see cref="Snapshot"/>, checks its SHA-256, and opens it. On a bad stream the
    /// directory is removed and <see cref="InvalidDataException"/> thrown.
    /// </summary>
    public static KvStore Restore(Stream input, KvStoreOptions options)
    {
        var dir = options.Directory;
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
        {
            throw new IOException($"restore needs an empty directory: {dir}");
        }

        try
        {
            using var backend = new RocksBackend(dir, syncWrites: false, cacheBytes: 1 << 20);
            using var batch = new RocksWriteBatch();
            ReadSnapshot(input, (key, value) =>
            {
                batch.Put(key, value);
                if (batch.Count >= 1_000)
                {
                    backend.WriteRaw(batch);
                    batch.Clear();
                }
            });
            backend.WriteRaw(batch);
        }
        catch (InvalidDataException)
        {
            Directory.Delete(dir, recursive: true);
            throw;
        }

        return Open(options);
    }

    /// <summary>
    /// Reads a stream written by <see cref="Snapshot"/> to its end and checks its structure and
    /// SHA-256 without storing anything: whether a received copy is whole before it is used (a
    /// connection closed early looks like the end of the stream to the receiver).
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is truncated, corrupt or not a snapshot.</exception>
    public static void VerifySnapshot(Stream input) => ReadSnapshot(input, static (_, _) => { });

    /// <summary>Parses a snapshot stream, handing each record to <paramref name="record"/>; the
    /// checksum is checked at the end, so a caller must not trust the records before it returns.</summary>
    private static void ReadSnapshot(Stream input, Action<byte[], byte[]> record)
    {
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var header = Take(input, hash, 12);
            if (!header.AsSpan(0, 8).SequenceEqual(s_snapshotMagic) || BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8)) != SnapshotFormat)
            {
                throw new InvalidDataException("not a ketch snapshot stream");
            }

            while (true)
            {
                var keyLength = BinaryPrimitives.ReadUInt32LittleEndian(Take(input, hash, 4));
                if (keyLength == EndOfRecords)
                {
                    break;
                }

                var key = Take(input, hash, checked((int)keyLength));
                var value = Take(input, hash, checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(input, hash, 4))));
                record(key, value);
            }

            var expected = new byte[32];
            input.ReadExactly(expected);
            if (!expected.AsSpan().SequenceEqual(hash.GetHashAndReset()))
            {
                throw new InvalidDataException("snapshot checksum mismatch");
            }
        }
        catch (Exception e) when (e is EndOfStreamException or OverflowException)
        {
            throw new InvalidDataException("truncated or corrupt snapshot stream", e);
        }
    }

    private static void Emit(Stream output, IncrementalHash hash, ReadOnlySpan<byte> bytes)
    {
        hash.AppendData(bytes);
        output.Write(bytes);
    }

    private static byte[] Take(Stream input, IncrementalHash hash, int count)
    {
        var bytes = new byte[count];
        input.ReadExactly(bytes);
        hash.AppendData(bytes);
        return bytes;
    }
}
