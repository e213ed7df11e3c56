using Ketch.Raft;
using Ketch.Raft.Storage;
using Ketch.Raft.Tests;
using Xunit;

namespace Ketch.Wal.Tests;

/// <summary>The shared <see cref="IRaftStorage"/> contract, run against a WalStorage that was
/// written, closed and reopened from disk.</summary>
public sealed class WalStorageConformanceTests : StorageConformanceTests, IDisposable
{
    private static readonly WalOptions Small = new() { SegmentSizeBytes = 64 * 1024 };
    private readonly TempDir _dir = new();
    private readonly List<WalStorage> _open = [];

    protected override IRaftStorage CreateWithEntries(ulong offsetIndex, ulong offsetTerm, params (ulong Index, ulong Term)[] entries)
    {
        var path = _dir.Combine(Guid.NewGuid().ToString("N"));
        using (var s = WalStorage.Create(path, TestData.Metadata(), Small))
        {
            var snapshot = new Snapshot(ReadOnlyMemory<byte>.Empty, new SnapshotMetadata(offsetIndex, offsetTerm, ConfState.Of([1UL])));
            s.SaveAsync(new HardState(offsetTerm, 1, offsetIndex), entries.Select(e => new Entry(e.Term, e.Index, EntryType.Normal, ReadOnlyMemory<byte>.Empty)).ToArray(),
                snapshot, mustSync: true).GetAwaiter().GetResult();
        }
        var reopened = WalStorage.Open(path, Small);
        _open.Add(reopened);
        return reopened;
    }

    public void Dispose()
    {
        foreach (var s in _open)
        {
            s.Dispose();
        }
        _dir.Dispose();
    }
}

public sealed class WalStorageTests
{
    private static readonly WalOptions Small = new() { SegmentSizeBytes = 64 * 1024 };

    [Fact]
    public async Task RestartReturnsTheSameStateSnapshotAndEntries()
    {
        using var dir = new TempDir();
        var rng = new Random(5);
        var options = new WalOptions { SegmentSizeBytes = 16 * 1024, MaxBatchBytes = 8 * 1024, MaxOldSegments = 0 };
        var entries = TestData.Entries(1, 100, 1, 400, rng);
        await using (var s = WalStorage.Create(dir.Path, TestData.Metadata(1), options))
        {
            Assert.Equal([1UL], s.InitialState().ConfState.Voters);
            await s.SaveAsync(new HardState(1, 1, 0), entries, null, mustSync: true);
            await s.SaveAsync(new HardState(1, 1, 80), ReadOnlyMemory<Entry>.Empty, null, mustSync: false);
            Assert.Equal(StorageError.None, await s.CreateSnapshotAsync(60, null, new byte[] { 6, 0 }));
            Assert.Equal(61UL, s.FirstIndex());
        }
        await using var r = WalStorage.Open(dir.Path, options);
        Assert.Equal(new HardState(1, 1, 80), r.InitialState().HardState);
        Assert.Equal([1UL], r.InitialState().ConfState.Voters);
        Assert.Equal(61UL, r.FirstIndex());
        Assert.Equal(100UL, r.LastIndex());
        Assert.Equal(60UL, r.Snapshot().Value.Metadata.Index);
        Assert.Equal(1UL, r.Term(60).Value);
        TestData.AssertSameEntries(entries[60..], r.Entries(61, 101, long.MaxValue).Value.ToArray());
    }

    [Fact]
    public async Task OpenReleasesTheReplayedLogOnceTheCacheHoldsIt()
    {
        // The Wal lives as long as the member and keeps its replay: holding the replayed log there
        // kept every entry of the retained segments alive (~400 MB after a 1M-key load).
        using var dir = new TempDir();
        var entries = TestData.Entries(1, 100, 1, 64, new Random(11));
        await using (var s = WalStorage.Create(dir.Path, TestData.Metadata(1), Small))
        {
            await s.SaveAsync(new HardState(1, 1, 100), entries, null, mustSync: true);
            Assert.Equal(StorageError.None, await s.CreateSnapshotAsync(70, null, new byte[] { 7 }));
        }
        await using var r = WalStorage.Open(dir.Path, Small);
        Assert.Throws<InvalidOperationException>(() => r.Wal.Replay.Entries);
        Assert.Throws<InvalidOperationException>(() => r.Wal.Replay.EntriesAfter(70));
        Assert.Equal(new HardState(1, 1, 100), r.Wal.Replay.HardState);
        Assert.Equal(71UL, r.FirstIndex());
        TestData.AssertSameEntries(entries[70..], r.Entries(71, 101, long.MaxValue).Value.ToArray());
    }

    [Fact]
    public async Task ASnapshotKeepsCatchUpEntriesForALaggingFollower()
    {
        using var dir = new TempDir();
        var entries = TestData.Entries(1, 100, 1, 64, new Random(7));
        await using var s = WalStorage.Create(dir.Path, TestData.Metadata(1), Small);
        await s.SaveAsync(new HardState(1, 1, 100), entries, null, mustSync: true);

        Assert.Equal(StorageError.None, await s.CreateSnapshotAsync(90, null, new byte[] { 9 }, catchUpEntries: 30));
        Assert.Equal(90UL, s.Snapshot().Value.Metadata.Index);
        Assert.Equal(61UL, s.FirstIndex());
        TestData.AssertSameEntries(entries[60..], s.Entries(61, 101, long.MaxValue).Value.ToArray());

        // More catch-up entries than the log holds: nothing is compacted, nothing fails.
        Assert.Equal(StorageError.None, await s.CreateSnapshotAsync(95, null, new byte[] { 9, 5 }, catchUpEntries: 1_000));
        Assert.Equal(61UL, s.FirstIndex());
        Assert.Equal(95UL, s.Snapshot().Value.Metadata.Index);
    }

    [Fact]
    public async Task ASnapshotFromTheLeaderReplacesTheLogAcrossRestart()
    {
        using var dir = new TempDir();
        var rng = new Random(6);
        await using (var s = WalStorage.Create(dir.Path, TestData.Metadata(2), Small))
        {
            await s.SaveAsync(new HardState(1, 0, 0), TestData.Entries(1, 10, 1, 50, rng), null, mustSync: true);
            var snap = new Snapshot(new byte[] { 9 }, new SnapshotMetadata(50, 3, ConfState.Of([1UL, 2, 3])));
            await s.SaveAsync(new HardState(3, 0, 50), TestData.Entries(51, 2, 3, 50, rng), snap, mustSync: true);
        }
        await using var r = WalStorage.Open(dir.Path, Small);
        Assert.Equal(51UL, r.FirstIndex());
        Assert.Equal(52UL, r.LastIndex());
        Assert.Equal([1UL, 2, 3], r.InitialState().ConfState.Voters);
        Assert.Equal(3UL, r.Term(50).Value);
    }

    [Fact]
    public async Task ASnapshotFileWithoutItsMarkerIsNotUsed()
    {
        // A crash between saving the snapshot file and its WAL marker leaves an orphan file.
        using var dir = new TempDir();
        var rng = new Random(7);
        var entries = TestData.Entries(1, 10, 1, 50, rng);
        await using (var s = WalStorage.Create(dir.Path, TestData.Metadata(1), Small))
        {
            await s.SaveAsync(new HardState(1, 1, 10), entries, null, mustSync: true);
            s.Snapshotter.Save(new Snapshot(new byte[] { 1 }, new SnapshotMetadata(8, 1, ConfState.Of([1UL]))));
        }
        await using var r = WalStorage.Open(dir.Path, Small);
        Assert.Equal(1UL, r.FirstIndex());
        Assert.Equal(10UL, r.LastIndex());
        // The open first skipped the payloads up to the orphan's index: they were read again.
        TestData.AssertSameEntries(entries, r.Entries(1, 11, long.MaxValue).Value.ToArray());
    }

    [Fact]
    public async Task AnOrphanSnapshotFileFallsBackToTheOlderSnapshotWithEveryPayloadAfterIt()
    {
        using var dir = new TempDir();
        var entries = TestData.Entries(1, 100, 1, 400, new Random(9));
        await using (var s = WalStorage.Create(dir.Path, TestData.Metadata(1), Small))
        {
            await s.SaveAsync(new HardState(1, 1, 100), entries, null, mustSync: true);
            Assert.Equal(StorageError.None, await s.CreateSnapshotAsync(40, null, new byte[] { 4 }));
            s.Snapshotter.Save(new Snapshot(new byte[] { 8 }, new SnapshotMetadata(80, 1, ConfState.Of([1UL]))));
        }
        await using var r = WalStorage.Open(dir.Path, Small);
        Assert.Equal(40UL, r.Snapshot().Value.Metadata.Index);
        Assert.Equal(41UL, r.FirstIndex());
        TestData.AssertSameEntries(entries[40..], r.Entries(41, 101, long.MaxValue).Value.ToArray());
    }

    [Fact]
    public async Task ADamagedNewestSnapshotFallsBackToTheOlderOneOnRestart()
    {
        using var dir = new TempDir();
        var rng = new Random(8);
        var entries = TestData.Entries(1, 100, 1, 400, rng);
        string newest;
        await using (var s = WalStorage.Create(dir.Path, TestData.Metadata(1), Small))
        {
            await s.SaveAsync(new HardState(1, 1, 100), entries, null, mustSync: true);
            Assert.Equal(StorageError.None, await s.CreateSnapshotAsync(40, null, new byte[] { 4 }));
            Assert.Equal(StorageError.None, await s.CreateSnapshotAsync(80, null, new byte[] { 8 }));
            newest = s.Snapshotter.Files[0];
        }
        var bytes = await File.ReadAllBytesAsync(newest);
        bytes[^1] ^= 0x40;
        await File.WriteAllBytesAsync(newest, bytes);
        await using var r = WalStorage.Open(dir.Path, Small);
        Assert.Equal(40UL, r.Snapshot().Value.Metadata.Index);
        Assert.Equal(41UL, r.FirstIndex());
        TestData.AssertSameEntries(entries[40..], r.Entries(41, 101, long.MaxValue).Value.ToArray());
    }
}
