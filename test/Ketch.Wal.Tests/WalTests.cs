using Ketch.Raft;
using Xunit;

namespace Ketch.Wal.Tests;

public sealed class WalTests
{
    private static WalOptions Small() => new()
    {
        SegmentSizeBytes = 16 * 1024,
        MaxBatchBytes = 8 * 1024,
        MaxOldSegments = 0,
    };


    [Fact]
    public async Task AppendReopenReplaysEntriesAndHardState()
    {
        using var dir = new TempDir();
        var rng = new Random(1);
        var entries = TestData.Entries(1, 20, 1, 100, rng);
        await using (var wal = Wal.Create(dir.Path, TestData.Metadata(), Small()))
        {
            await wal.AppendAsync(entries.AsMemory(0, 10), new HardState(1, 1, 5));
            await wal.AppendAsync(entries.AsMemory(10), new HardState(1, 1, 12));
        }
        await using var reopened = Wal.Open(dir.Path, Small());
        var r = reopened.Replay;
        Assert.Equal(new HardState(1, 1, 12), r.HardState);
        Assert.Equal(1UL, r.Metadata.MemberId);
        Assert.Equal(0xc1UL, r.Metadata.ClusterId);
        TestData.AssertSameEntries(entries, r.Entries);
    }

    [Fact]
    public async Task SegmentsAreCutAtTheSizeLimitAndReplayAcrossThem()
    {
        using var dir = new TempDir();
        var rng = new Random(2);
        var entries = TestData.Entries(1, 200, 2, 500, rng);
        await using (var wal = Wal.Create(dir.Path, TestData.Metadata(), Small()))
        {
            for (var i = 0; i < entries.Length; i += 5)
            {
                await wal.AppendAsync(entries.AsMemory(i, 5), new HardState(2, 1, (ulong)i));
            }
            Assert.True(wal.SegmentFiles.Count > 5, $"expected several segments, got {wal.SegmentFiles.Count}");
            foreach (var f in wal.SegmentFiles)
            {
                Assert.Equal(16 * 1024, new FileInfo(f).Length);
            }
        }
        await using var reopened = Wal.Open(dir.Path, Small());
        TestData.AssertSameEntries(entries, reopened.Replay.Entries);
        Assert.Equal(new HardState(2, 1, 195), reopened.Replay.HardState);
        // Segment names carry the first index expected in them.
        var names = reopened.SegmentFiles.Select(Path.GetFileName).ToArray();
        Assert.Equal("0000000000000001-0000000000000001.wal", names[0]);
    }

    [Fact]
    public async Task ALaterEntryReplacesTheConflictingSuffix()
    {
        using var dir = new TempDir();
        var rng = new Random(3);
        await using (var wal = Wal.Create(dir.Path, TestData.Metadata(), Small()))
        {
            await wal.AppendAsync(TestData.Entries(1, 10, 1, 10, rng));
            await wal.AppendAsync(TestData.Entries(6, 2, 2, 10, rng));
        }
        await using var reopened = Wal.Open(dir.Path, Small());
        var r = reopened.Replay.Entries;
        Assert.Equal(7, r.Count);
        Assert.Equal([1UL, 1, 1, 1, 1, 2, 2], r.Select(e => e.Term));
    }

    [Fact]
    public async Task ReleaseDeletesSegmentsWhollyBeforeTheSnapshot()
    {
        using var dir = new TempDir();
        var rng = new Random(4);
        var entries = TestData.Entries(1, 300, 1, 500, rng);
        await using (var wal = Wal.Create(dir.Path, TestData.Metadata(), Small()))
        {
            for (var i = 0; i < entries.Length; i += 10)
            {
                await wal.AppendAsync(entries.AsMemory(i, 10));
            }
            var before = wal.SegmentFiles.Count;
            await wal.SaveSnapshotMarkerAsync(new SnapshotMarker(200, 1));
            wal.ReleaseTo(200);
            var after = wal.SegmentFiles;
            Assert.True(after.Count < before);
            Assert.True(SegmentName.TryParse(Path.GetFileName(after[0]), out var first));
            Assert.True(first.FirstIndex <= 201);
        }
        await using var reopened = Wal.Open(dir.Path, Small());
        Assert.Contains(new SnapshotMarker(200, 1), reopened.Replay.SnapshotMarkers);
        TestData.AssertSameEntries(entries[200..], reopened.Replay.EntriesAfter(200).ToArray());
    }

    [Fact]
    public async Task ReleaseKeepsMaxOldSegments()
    {
        using var dir = new TempDir();
        var rng = new Random(5);
        var options = new WalOptions { SegmentSizeBytes = 16 * 1024, MaxBatchBytes = 8 * 1024, MaxOldSegments = 2 };
        await using var wal = Wal.Create(dir.Path, TestData.Metadata(), options);
        var entries = TestData.Entries(1, 300, 1, 500, rng);
        for (var i = 0; i < entries.Length; i += 10)
        {
            await wal.AppendAsync(entries.AsMemory(i, 10));
        }
        var all = wal.SegmentFiles.Select(f => { SegmentName.TryParse(Path.GetFileName(f), out var n); return n; }).ToArray();
        var start = Array.FindLastIndex(all, n => n.FirstIndex <= 251);
        wal.ReleaseTo(250);
        Assert.Equal(all.Length - start + 2, wal.SegmentFiles.Count);
    }

    [Fact]
    public async Task ConcurrentAppendersShareFsyncs()
    {
        using var dir = new TempDir();
        var fs = new FaultyFileSystem();
        var options = new WalOptions { SegmentSizeBytes = 1 << 20, FileSystem = fs };
        await using var wal = Wal.Create(dir.Path, TestData.Metadata(), options);
        var syncsBefore = fs.Syncs;
        const int writers = 64, perWriter = 20;
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < perWriter; i++)
            {
                // Distinct indexes per writer are not needed by the WAL; replay order decides.
                await wal.AppendAsync(new[] { new Entry(1, (ulong)((w * perWriter) + i + 1), EntryType.Normal, new byte[256]) });
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        var syncs = fs.Syncs - syncsBefore;
        Assert.True(syncs < writers * perWriter / 2, $"{syncs} fsyncs for {writers * perWriter} appends");
    }

    [Fact]
    public async Task UnsyncedAppendsCompleteWithoutAnFsync()
    {
        using var dir = new TempDir();
        var fs = new FaultyFileSystem();
        await using var wal = Wal.Create(dir.Path, TestData.Metadata(), new WalOptions { SegmentSizeBytes = 1 << 20, FileSystem = fs });
        var before = fs.Syncs;
        await wal.AppendAsync(ReadOnlyMemory<Entry>.Empty, new HardState(1, 0, 3), sync: false);
        Assert.Equal(before, fs.Syncs);
        await wal.SyncAsync();
        Assert.Equal(before + 1, fs.Syncs);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [InlineData(null)] // the default: chosen by measuring (InlinePolicy), so both mix
    public async Task AppendsOfOneCallerKeepTheirOrderUnderContention(bool? inlineWhenIdle)
    {
        // One caller issues appends without waiting for each; others keep the writer busy with
        // hard-state-only appends, so the caller's appends mix the (optional) inline path, the queue and
        // the carry-over of a full batch.
        using var dir = new TempDir();
        var options = new WalOptions { SegmentSizeBytes = 64 * 1024, MaxBatchBytes = 4096, InlineWhenIdle = inlineWhenIdle };
        var rng = new Random(11);
        var entries = TestData.Entries(1, 2000, 1, 100, rng);
        await using (var wal = Wal.Create(dir.Path, TestData.Metadata(), options))
        {
            using var stop = new CancellationTokenSource();
            var noise = Enumerable.Range(0, 4).Select(n => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await wal.AppendAsync(ReadOnlyMemory<Entry>.Empty, new HardState(1, 1, (ulong)n), sync: n % 2 == 0);
                }
            })).ToArray();
            var pending = new List<Task>();
            for (var i = 0; i < entries.Length; i += 4)
            {
                pending.Add(wal.AppendAsync(entries.AsMemory(i, 4), null, sync: i % 8 == 0));
                if (i % 64 == 0)
                {
                    await Task.WhenAll(pending);
                }
            }
            await Task.WhenAll(pending);
            await stop.CancelAsync();
            await Task.WhenAll(noise);
        }
        await using var reopened = Wal.Open(dir.Path, options);
        TestData.AssertSameEntries(entries, reopened.Replay.Entries);
    }
}
