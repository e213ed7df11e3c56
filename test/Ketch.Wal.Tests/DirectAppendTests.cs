using Ketch.Raft;
using Ketch.Wal.IO;
using Xunit;

namespace Ketch.Wal.Tests;

/// <summary>
/// Durable appends of the real file system: written straight to the device (O_DIRECT | O_DSYNC)
/// where the file system allows it, through the page cache where not. Either way the file must end
/// up holding exactly the bytes appended and written, whatever their sizes and alignment.
/// </summary>
public sealed class DirectAppendTests
{
    private const int FileSize = 1 << 20;

    [Fact]
    public void Appends_of_any_size_and_alignment_leave_exactly_the_bytes_written()
    {
        using var dir = new TempDir();
        var fs = new OsFileSystem(directAppends: true);
        var model = AppendRandomly(fs, dir.Combine("segment"), seed: 7);

        Assert.Equal(model, File.ReadAllBytes(dir.Combine("segment")));
        if (SupportsDirectIo(dir.Path))
        {
            // All but the appends that followed a buffered write (which sync with fdatasync).
            Assert.True(fs.DirectAppends > 100, $"only {fs.DirectAppends} appends went to the device directly");
        }
    }

    [Fact]
    public void With_direct_appends_off_every_append_goes_through_the_page_cache()
    {
        // The fallback wherever open(2) refuses O_DIRECT, and the benchmark's comparison.
        using var dir = new TempDir();
        var fs = new OsFileSystem(directAppends: false);
        var model = AppendRandomly(fs, dir.Combine("segment"), seed: 8);

        Assert.Equal(model, File.ReadAllBytes(dir.Combine("segment")));
        Assert.Equal(0, fs.DirectAppends);
    }

    [Fact]
    public void An_append_that_would_grow_the_file_is_written_through_the_page_cache()
    {
        using var dir = new TempDir();
        var fs = new OsFileSystem(directAppends: true);
        var path = dir.Combine("short");
        var first = Bytes(5000, 1);
        var second = Bytes(5000, 2);
        using (var file = fs.Open(path, create: true))
        {
            file.Write(0, new byte[8192]);
            file.Sync();
            file.Append(0, [first]);      // ends at 5000: inside the file
            file.Append(5000, [second]);  // ends at 10000: past the 8192 bytes the file has
        }

        var content = File.ReadAllBytes(path);
        Assert.Equal(10000, content.Length);
        Assert.Equal(first, content[..5000]);
        Assert.Equal(second, content[5000..]);
    }

    [Fact]
    public async Task A_wal_written_with_direct_appends_replays_every_entry_and_goes_on_after_reopening()
    {
        using var dir = new TempDir();
        var fs = new OsFileSystem(directAppends: true);
        var options = new WalOptions { SegmentSizeBytes = 64 * 1024, MaxBatchBytes = 16 * 1024, FileSystem = fs };
        var rng = new Random(9);
        var entries = TestData.Entries(1, 900, 3, 700, rng);
        async Task AppendAsync(Wal wal, int from, int to)
        {
            for (var i = from; i < to;)
            {
                var n = Math.Min(rng.Next(1, 12), to - i);
                // Every few appends one without sync: buffered, then carried by the next sync.
                await wal.AppendAsync(entries.AsMemory(i, n), new HardState(3, 1, (ulong)i), sync: rng.Next(4) != 0);
                i += n;
            }
            await wal.SyncAsync();
        }

        await using (var wal = Wal.Create(dir.Path, TestData.Metadata(), options))
        {
            await AppendAsync(wal, 0, 600);
        }
        var afterFirst = fs.DirectAppends;
        await using (var reopened = Wal.Open(dir.Path, options))
        {
            TestData.AssertSameEntries(entries[..600], reopened.Replay.Entries);
            // The tail segment is appended to again: its first synced batch through fdatasync
            // (pages a dead process left dirty), the rest directly.
            await AppendAsync(reopened, 600, 900);
        }
        await using var last = Wal.Open(dir.Path, options);
        TestData.AssertSameEntries(entries, last.Replay.Entries);
        if (SupportsDirectIo(dir.Path))
        {
            Assert.True(afterFirst > 0 && fs.DirectAppends > afterFirst, $"direct appends: {afterFirst} before reopening, {fs.DirectAppends} in all");
        }
    }

    /// <summary>Appends random-length buffers (1 B to 3 pages, in 1 to 4 pieces) at the end of a
    /// preallocated file, now and then writing and syncing the buffered way in between, as the
    /// WAL does for appends that need no sync; returns what the file must hold.</summary>
    private static byte[] AppendRandomly(OsFileSystem fs, string path, int seed)
    {
        var rng = new Random(seed);
        var model = new byte[FileSize];
        long end = 0;
        using var file = fs.Open(path, create: true);
        file.Write(0, new byte[FileSize]);
        file.Sync();
        while (true)
        {
            var pieces = new List<ReadOnlyMemory<byte>>();
            var count = rng.Next(1, 5);
            long length = 0;
            for (var i = 0; i < count; i++)
            {
                var piece = Bytes(rng.Next(1, 3 * 4096 / count), rng.Next());
                pieces.Add(piece);
                length += piece.Length;
            }
            if (end + length > FileSize)
            {
                return model;
            }
            foreach (var p in pieces)
            {
                p.Span.CopyTo(model.AsSpan((int)end));
                end += p.Length;
            }
            var at = end - length;
            switch (rng.Next(10))
            {
                case 0:
                    file.Write(at, pieces);
                    break;
                case 1:
                    file.Write(at, pieces);
                    file.Sync();
                    break;
                default:
                    file.Append(at, pieces);
                    break;
            }
        }
    }

    private static byte[] Bytes(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static bool SupportsDirectIo(string directory)
    {
        var probe = Path.Combine(directory, "direct-probe-" + Guid.NewGuid().ToString("N"));
        try
        {
            // As the product decides: the descriptor opens, and an aligned write through it works.
            using var handle = File.OpenHandle(probe, FileMode.CreateNew, FileAccess.ReadWrite);
            RandomAccess.Write(handle, new byte[2 * DirectAppender.Alignment], 0);
            using var direct = DirectAppender.TryOpen(handle);
            if (direct is null)
            {
                return false;
            }
            try
            {
                return direct.TryAppend(handle, 100, [new byte[100]]);
            }
            catch (IOException)
            {
                return false;
            }
        }
        finally
        {
            File.Delete(probe);
        }
    }
}
