using Ketch.Wal.IO;

namespace Ketch.Wal.Tests;

/// <summary>The real file system with injectable faults: failed writes, short writes (a prefix
/// reaches the file, then an error), failed fsyncs. Counts syncs for the group-commit tests.</summary>
internal sealed class FaultyFileSystem : IWalFileSystem
{
    private readonly IWalFileSystem _inner = OsFileSystem.Instance;
    private int _syncs;
    private int _writes;

    /// <summary>Only files whose name ends so are faulted (e.g. ".wal" to spare the segment pipeline's temp files).</summary>
    public string FaultSuffix { get; set; } = ".wal";

    public volatile bool FailNextWrite;
    public volatile int ShortWriteBytes = -1;
    public volatile bool FailNextSync;

    public int Syncs => Volatile.Read(ref _syncs);

    public int Writes => Volatile.Read(ref _writes);

    private readonly Dictionary<string, NameBox> _names = new(StringComparer.Ordinal);

    public IWalFile Open(string path, bool create)
    {
        NameBox box;
        lock (_names)
        {
            if (!_names.TryGetValue(path, out box!))
            {
                box = new NameBox { Path = path };
                _names[path] = box;
            }
        }
        return new FaultyFile(this, box, _inner.Open(path, create));
    }

    public byte[] ReadAll(string path) => _inner.ReadAll(path);

    public bool FileExists(string path) => _inner.FileExists(path);

    public IReadOnlyList<string> List(string directory) => _inner.List(directory);

    public void CreateDirectory(string directory) => _inner.CreateDirectory(directory);

    public void Delete(string path) => _inner.Delete(path);

    public void Rename(string from, string to)
    {
        _inner.Rename(from, to);
        lock (_names)
        {
            // Open handles follow the file to its new name (a segment is renamed from its temp name).
            if (_names.Remove(from, out var box))
            {
                box.Path = to;
                _names[to] = box;
            }
        }
    }

    private sealed class NameBox
    {
        public required string Path { get; set; }
    }

    public void SyncDirectory(string directory) => _inner.SyncDirectory(directory);

    private sealed class FaultyFile(FaultyFileSystem fs, NameBox name, IWalFile inner) : IWalFile
    {
        private bool Faulted => name.Path.EndsWith(fs.FaultSuffix, StringComparison.Ordinal);

        public long Length => inner.Length;

        public void SetLength(long length) => inner.SetLength(length);

        public void Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers)
        {
            Interlocked.Increment(ref fs._writes);
            if (Faulted && fs.FailNextWrite)
            {
                fs.FailNextWrite = false;
                throw new IOException("injected write failure");
            }
            if (Faulted && fs.ShortWriteBytes >= 0)
            {
                var all = buffers.SelectMany(b => b.ToArray()).ToArray();
                var n = Math.Min(fs.ShortWriteBytes, all.Length);
                fs.ShortWriteBytes = -1;
                inner.Write(offset, all.AsMemory(0, n));
                throw new IOException($"injected short write ({n} of {all.Length} bytes)");
            }
            inner.Write(offset, buffers);
        }

        public void Sync()
        {
            if (Faulted && fs.FailNextSync)
            {
                fs.FailNextSync = false;
                throw new IOException("injected fsync failure");
            }
            if (name.Path.EndsWith(".wal", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref fs._syncs);
            }
            inner.Sync();
        }

        public void Dispose() => inner.Dispose();
    }
}
