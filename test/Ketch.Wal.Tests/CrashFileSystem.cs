using Ketch.Wal.IO;

namespace Ketch.Wal.Tests;

/// <summary>
/// An in-memory file system that can "crash": <see cref="Crash"/> returns the image a power cut
/// would leave. Synced data survives; of the writes since a file's last sync, a random prefix
/// survives whole and the next one survives as a random subset of its 512-byte sectors (sectors
/// are atomic, their order is not). Directory operations (create, rename, delete) are durable at
/// once, a simplification: the WAL syncs the directory after each of them anyway.
/// </summary>
internal sealed class CrashFileSystem : IWalFileSystem
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, MemFile> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirs = new(StringComparer.Ordinal);

    public IWalFile Open(string path, bool create)
    {
        lock (_lock)
        {
            if (!_files.TryGetValue(path, out var f))
            {
                if (!create)
                {
                    throw new FileNotFoundException(path);
                }
                f = new MemFile();
                _files[path] = f;
            }
            return new Handle(this, f);
        }
    }

    public byte[] ReadAll(string path)
    {
        lock (_lock)
        {
            return _files.TryGetValue(path, out var f) ? f.Current : throw new FileNotFoundException(path);
        }
    }

    public bool FileExists(string path)
    {
        lock (_lock)
        {
            return _files.ContainsKey(path);
        }
    }

    public IReadOnlyList<string> List(string directory)
    {
        lock (_lock)
        {
            return _files.Keys.Where(k => Path.GetDirectoryName(k) == directory).Select(k => Path.GetFileName(k)).ToArray();
        }
    }

    public void CreateDirectory(string directory)
    {
        lock (_lock)
        {
            _dirs.Add(directory);
        }
    }

    public void Delete(string path)
    {
        lock (_lock)
        {
            _files.Remove(path);
        }
    }

    public void Rename(string from, string to)
    {
        lock (_lock)
        {
            if (!_files.Remove(from, out var f))
            {
                throw new FileNotFoundException(from);
            }
            _files[to] = f;
        }
    }

    public void SyncDirectory(string directory)
    {
    }

    /// <summary>Places a file with the given (durable) content.</summary>
    public void Put(string path, byte[] bytes)
    {
        lock (_lock)
        {
            _files[path] = MemFile.Of(bytes);
        }
    }

    /// <summary>The durable image after a power cut at this instant.</summary>
    public CrashFileSystem Crash(Random rng)
    {
        lock (_lock)
        {
            var image = new CrashFileSystem();
            foreach (var d in _dirs)
            {
                image._dirs.Add(d);
            }
            foreach (var (path, f) in _files)
            {
                image._files[path] = f.Crash(rng);
            }
            return image;
        }
    }

    private sealed class MemFile
    {
        private byte[] _data = [];
        private byte[] _durable = [];
        private readonly List<(long Offset, byte[] Data)> _pending = [];

        public long Length { get; private set; }

        public byte[] Current => _data.AsSpan(0, (int)Length).ToArray();

        public static MemFile Of(byte[] bytes)
        {
            var f = new MemFile();
            f.Write(0, bytes);
            f.Sync();
            return f;
        }

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            Apply(ref _data, Length, offset, data, out var len);
            Length = len;
            _pending.Add((offset, data.ToArray()));
        }

        public void SetLength(long length)
        {
            Resize(ref _data, Length, length);
            Length = length;
            _pending.Add((-length - 1, []));
        }

        public void Sync()
        {
            _durable = Current;
            _pending.Clear();
        }

        public MemFile Crash(Random rng)
        {
            var image = (byte[])_durable.Clone();
            long length = image.Length;
            var survive = rng.Next(_pending.Count + 1);
            for (var i = 0; i < survive; i++)
            {
                var (offset, data) = _pending[i];
                if (offset < 0)
                {
                    Resize(ref image, length, -offset - 1);
                    length = -offset - 1;
                }
                else
                {
                    Apply(ref image, length, offset, data, out length);
                }
            }
            if (survive < _pending.Count && _pending[survive].Offset >= 0)
            {
                // The write in flight: some of its sectors reached the disk, in any order.
                var (offset, data) = _pending[survive];
                for (var s = offset / 512 * 512; s < offset + data.Length; s += 512)
                {
                    if (rng.Next(2) == 0)
                    {
                        continue;
                    }
                    var from = Math.Max(s, offset);
                    var to = Math.Min(s + 512, offset + data.Length);
                    Apply(ref image, length, from, data.AsSpan((int)(from - offset), (int)(to - from)), out length);
                }
            }
            return Of(image.AsSpan(0, (int)length).ToArray());
        }

        private static void Apply(ref byte[] target, long length, long offset, ReadOnlySpan<byte> data, out long newLength)
        {
            newLength = Math.Max(length, offset + data.Length);
            if (newLength > length)
            {
                Resize(ref target, length, newLength);
            }
            data.CopyTo(target.AsSpan((int)offset));
        }

        private static void Resize(ref byte[] target, long length, long newLength)
        {
            if (newLength > target.Length)
            {
                Array.Resize(ref target, (int)Math.Max(newLength, target.Length * 2L));
            }
            if (newLength > length)
            {
                target.AsSpan((int)length, (int)(newLength - length)).Clear();
            }
            else
            {
                target.AsSpan((int)newLength, (int)(length - newLength)).Clear();
            }
        }
    }

    private sealed class Handle(CrashFileSystem fs, MemFile f) : IWalFile
    {
        public long Length
        {
            get
            {
                lock (fs._lock)
                {
                    return f.Length;
                }
            }
        }

        public void SetLength(long length)
        {
            lock (fs._lock)
            {
                f.SetLength(length);
            }
        }

        public void Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers)
        {
            lock (fs._lock)
            {
                var all = buffers.SelectMany(b => b.ToArray()).ToArray();
                f.Write(offset, all);
            }
        }

        public void Sync()
        {
            lock (fs._lock)
            {
                f.Sync();
            }
        }

        public void Dispose()
        {
        }
    }
}
