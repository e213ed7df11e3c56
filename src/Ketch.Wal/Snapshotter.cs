using System.Buffers.Binary;
using System.Globalization;
using Ketch.Raft;
using Ketch.Raft.Encoding;
using Ketch.Wal.IO;

namespace Ketch.Wal;

/// <summary>
/// Saves and loads snapshot files: the Raft snapshot (metadata and the application's state
/// blob) in one file per snapshot, named <c>{term:x16}-{index:x16}.snap</c>, checksummed, written
/// to a temporary file, fsynced and renamed into place (docs/wal.md, "Snapshot files"). Keeps the
/// newest N; loading falls back to an older file when a newer one is damaged.
/// </summary>
public sealed class Snapshotter
{
    /// <summary>The file extension of a snapshot.</summary>
    public const string Extension = ".snap";

    private const int HeaderBytes = 24;
    private const uint FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "KETCHSNP"u8;

    private readonly IWalFileSystem _fs;
    private readonly string _dir;
    private readonly int _keep;

    /// <summary>A snapshotter over <paramref name="dir"/> keeping the newest <paramref name="keep"/> files.</summary>
    public Snapshotter(string dir, int keep = 5) : this(OsFileSystem.Instance, dir, keep)
    {
    }

    internal Snapshotter(IWalFileSystem fs, string dir, int keep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        _fs = fs;
        _dir = dir;
        _keep = keep;
        fs.CreateDirectory(dir);
        foreach (var f in fs.List(dir))
        {
            if (f.EndsWith(".tmp", StringComparison.Ordinal))
            {
                fs.Delete(Path.Combine(dir, f));
            }
        }
    }

    /// <summary>Told, after each save, how long it took in all, encoding it, and its fsync (a
    /// member's metrics).</summary>
    public Action<TimeSpan, TimeSpan, TimeSpan>? SaveObserver { get; set; }

    /// <summary>The snapshot files present, newest first.</summary>
    public IReadOnlyList<string> Files => List().Select(n => Path.Combine(_dir, n.FileName)).ToArray();

    /// <summary>Writes <paramref name="snapshot"/> durably, then deletes all but the newest files.</summary>
    public void Save(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        TimeSpan marshalling, fsync;
        var name = $"{snapshot.Metadata.Term:x16}-{snapshot.Metadata.Index:x16}{Extension}";
        var path = Path.Combine(_dir, name);
        var temp = path + ".tmp";
        using (var w = new PooledBufferWriter(HeaderBytes + snapshot.Data.Length + 256))
        {
            w.GetSpan(HeaderBytes)[..HeaderBytes].Clear();
            w.Advance(HeaderBytes);
            RaftEncoding.Write(w, snapshot);
            var bytes = w.Written;
            Magic.CopyTo(bytes);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], FormatVersion);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes[16..], (ulong)(bytes.Length - HeaderBytes));
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[12..], Crc32C.Compute(bytes[16..]));
            marshalling = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            using var file = _fs.Open(temp, create: true);
            file.SetLength(0);
            file.Write(0, w.WrittenMemory);
            var syncStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            file.Sync();
            fsync = System.Diagnostics.Stopwatch.GetElapsedTime(syncStarted);
        }
        _fs.Rename(temp, path);
        _fs.SyncDirectory(_dir);
        SaveObserver?.Invoke(System.Diagnostics.Stopwatch.GetElapsedTime(started), marshalling, fsync);
        var all = List();
        for (var i = _keep; i < all.Count; i++)
        {
            _fs.Delete(Path.Combine(_dir, all[i].FileName));
        }
    }

    /// <summary>
    /// The newest snapshot that is intact and that <paramref name="accept"/> accepts (e.g. one the WAL
    /// has a marker for), or null when there is none. A damaged file is renamed to <c>*.broken</c>
    /// and the next older one tried.
    /// </summary>
    public Snapshot? LoadNewest(Func<SnapshotMetadata, bool>? accept = null)
    {
        foreach (var n in List())
        {
            var path = Path.Combine(_dir, n.FileName);
            Snapshot snapshot;
            try
            {
                snapshot = Read(path);
            }
            catch (WalCorruptionException)
            {
                _fs.Rename(path, path + ".broken");
                continue;
            }
            if (accept is null || accept(snapshot.Metadata))
            {
                return snapshot;
            }
        }
        return null;
    }

    /// <summary>Reads and verifies one snapshot file; throws <see cref="WalCorruptionException"/> when damaged.</summary>
    public Snapshot Read(string path)
    {
        var bytes = _fs.ReadAll(path);
        if (bytes.Length < HeaderBytes || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new WalCorruptionException(path, 0, "not a snapshot file (bad magic or too short)");
        }
        var version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (version != FormatVersion)
        {
            throw new WalCorruptionException(path, 8, $"unknown snapshot format version {version}");
        }
        var bodyLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16));
        if (bodyLength != (ulong)(bytes.Length - HeaderBytes))
        {
            throw new WalCorruptionException(path, 16, $"body length {bodyLength} does not match the file ({bytes.Length - HeaderBytes} bytes)");
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)) != Crc32C.Compute(bytes.AsSpan(16)))
        {
            throw new WalCorruptionException(path, 12, "snapshot checksum mismatch");
        }
        try
        {
            return RaftEncoding.ReadSnapshot(bytes.AsMemory(HeaderBytes));
        }
        catch (RaftDecodeException ex)
        {
            throw new WalCorruptionException(path, HeaderBytes, "undecodable snapshot: " + ex.Message);
        }
    }

    private List<(string FileName, ulong Term, ulong Index)> List()
    {
        var result = new List<(string, ulong, ulong)>();
        foreach (var f in _fs.List(_dir))
        {
            if (f.Length == 33 + Extension.Length && f.EndsWith(Extension, StringComparison.Ordinal) && f[16] == '-'
                && ulong.TryParse(f.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var term)
                && ulong.TryParse(f.AsSpan(17, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var index))
            {
                result.Add((f, term, index));
            }
        }
        result.Sort((a, b) => a.Item3 != b.Item3 ? b.Item3.CompareTo(a.Item3) : b.Item2.CompareTo(a.Item2));
        return result;
    }
}
