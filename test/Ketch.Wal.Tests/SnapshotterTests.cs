using Ketch.Raft;
using Xunit;

namespace Ketch.Wal.Tests;

public sealed class SnapshotterTests
{
    private static Snapshot Snap(ulong index, ulong term, int size)
    {
        var data = new byte[size];
        new Random((int)index).NextBytes(data);
        return new Snapshot(data, new SnapshotMetadata(index, term, ConfState.Of([1UL, 2, 3], [4UL])));
    }

    [Fact]
    public void SaveAndLoadTheNewest()
    {
        using var dir = new TempDir();
        var s = new Snapshotter(dir.Path);
        s.Save(Snap(10, 2, 1000));
        s.Save(Snap(20, 3, 5000));
        var loaded = s.LoadNewest();
        Assert.NotNull(loaded);
        Assert.Equal(Snap(20, 3, 5000).Metadata, loaded.Metadata);
        Assert.True(Snap(20, 3, 5000).Data.Span.SequenceEqual(loaded.Data.Span));
        Assert.Equal("0000000000000003-0000000000000014.snap", Path.GetFileName(s.Files[0]));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void KeepsTheNewestN()
    {
        using var dir = new TempDir();
        var s = new Snapshotter(dir.Path, keep: 2);
        for (ulong i = 1; i <= 5; i++)
        {
            s.Save(Snap(i * 10, 1, 100));
        }
        Assert.Equal(2, s.Files.Count);
        Assert.Equal(50UL, s.LoadNewest()!.Metadata.Index);
    }

    [Theory]
    [InlineData(0)]      // magic
    [InlineData(13)]     // checksum
    [InlineData(20)]     // length
    [InlineData(30)]     // metadata
    [InlineData(-1)]     // last byte of data
    public void ADamagedNewestFallsBackToTheOlderOne(int offset)
    {
        using var dir = new TempDir();
        var s = new Snapshotter(dir.Path);
        s.Save(Snap(10, 2, 1000));
        s.Save(Snap(20, 3, 1000));
        var newest = s.Files[0];
        var bytes = File.ReadAllBytes(newest);
        bytes[offset < 0 ? bytes.Length + offset : offset] ^= 0x10;
        File.WriteAllBytes(newest, bytes);
        var ex = Assert.Throws<WalCorruptionException>(() => s.Read(newest));
        Assert.Equal(newest, ex.FilePath);
        Assert.Equal(10UL, s.LoadNewest()!.Metadata.Index);
        Assert.True(File.Exists(newest + ".broken"));
    }

    [Fact]
    public void ATruncatedNewestFallsBackAndAFilterSkipsUnmarkedSnapshots()
    {
        using var dir = new TempDir();
        var s = new Snapshotter(dir.Path);
        s.Save(Snap(10, 2, 1000));
        s.Save(Snap(20, 3, 1000));
        s.Save(Snap(30, 3, 1000));
        File.WriteAllBytes(s.Files[0], File.ReadAllBytes(s.Files[0])[..500]);
        Assert.Equal(10UL, s.LoadNewest(m => m.Index != 20)!.Metadata.Index);
        Assert.Null(s.LoadNewest(_ => false));
    }
}
