using System.Runtime.CompilerServices;
using System.Text;
using Ketch.Raft;
using Xunit;

namespace Ketch.Wal.Tests;

/// <summary>
/// Pins the on-disk format byte for byte: a small segment and a snapshot file written from fixed
/// inputs must equal the files committed under testdata/. After an intended format change, run
/// with <c>KETCH_WAL_REWRITE=1</c> to regenerate them and review the diff.
/// </summary>
public sealed class GoldenTests
{
    private const string SegmentFile = "0000000000000001-0000000000000001.wal";
    private const string SnapshotFile = "0000000000000002-0000000000000003.snap";

    private static readonly Entry[] Entries =
    [
        new(1, 1, EntryType.Normal, ReadOnlyMemory<byte>.Empty),
        new(1, 2, EntryType.Normal, Encoding.ASCII.GetBytes("put foo=bar")),
        new(2, 3, EntryType.ConfChange, new byte[] { 1, 2, 3, 4 }),
    ];

    private static string TestDataDir([CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(source)!, "testdata", "golden");

    private static bool Rewrite => Environment.GetEnvironmentVariable("KETCH_WAL_REWRITE") == "1";

    private static WalOptions Options => new() { SegmentSizeBytes = 4096, MaxBatchBytes = 4096 };

    private static async Task WriteGoldenLog(string dir)
    {
        var metadata = new WalMetadata(0x11, 0xc0ffee, ConfState.Of([0x11UL, 0x12, 0x13]));
        await using var wal = Wal.Create(dir, metadata, Options);
        await wal.AppendAsync(Entries.AsMemory(0, 2), new HardState(1, 0x11, 1));
        await wal.AppendAsync(new SnapshotMarker(2, 1), Entries.AsMemory(2), new HardState(2, 0x12, 3), sync: true);
    }

    [Fact]
    public async Task SegmentMatchesTheGoldenFile()
    {
        using var dir = new TempDir();
        await WriteGoldenLog(dir.Path);
        var actual = await File.ReadAllBytesAsync(Path.Combine(dir.Path, SegmentFile));
        var golden = Path.Combine(TestDataDir(), SegmentFile);
        if (Rewrite)
        {
            Directory.CreateDirectory(TestDataDir());
            await File.WriteAllBytesAsync(golden, actual);
        }
        var expected = await File.ReadAllBytesAsync(golden);
        Assert.Equal(expected.Length, actual.Length);
        var diff = Enumerable.Range(0, expected.Length).FirstOrDefault(i => expected[i] != actual[i], -1);
        Assert.True(diff < 0, $"segment differs from {golden} at offset {diff}");
    }

    [Fact]
    public async Task TheGoldenSegmentReadsBack()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "testdata", "golden", SegmentFile), Path.Combine(dir.Path, SegmentFile));
        await using var wal = Wal.Open(dir.Path, Options);
        var r = wal.Replay;
        Assert.Equal(0x11UL, r.Metadata.MemberId);
        Assert.Equal(0xc0ffeeUL, r.Metadata.ClusterId);
        Assert.Equal([0x11UL, 0x12, 0x13], r.Metadata.Bootstrap.Voters);
        Assert.Equal(new HardState(2, 0x12, 3), r.HardState);
        Assert.Contains(new SnapshotMarker(2, 1), r.SnapshotMarkers);
        TestData.AssertSameEntries(Entries, r.Entries);
    }

    [Fact]
    public void SnapshotMatchesTheGoldenFile()
    {
        using var dir = new TempDir();
        var s = new Snapshotter(dir.Path);
        s.Save(new Snapshot(Encoding.ASCII.GetBytes("state machine image"),
            new SnapshotMetadata(3, 2, ConfState.Of([1UL, 2, 3], [4UL]))));
        var actual = File.ReadAllBytes(Path.Combine(dir.Path, SnapshotFile));
        var golden = Path.Combine(TestDataDir(), SnapshotFile);
        if (Rewrite)
        {
            Directory.CreateDirectory(TestDataDir());
            File.WriteAllBytes(golden, actual);
        }
        Assert.Equal(File.ReadAllBytes(golden), actual);
    }
}
