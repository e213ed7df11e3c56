using Ketch.Raft;
using Xunit;

namespace Ketch.Wal.Tests;

/// <summary>After a failed write or fsync the WAL refuses further appends: it never reports as
/// durable what may not be. Reopening re-reads the disk and keeps what really was synced.</summary>
public sealed class FaultInjectionTests
{
    private static WalOptions Options(FaultyFileSystem fs) => new() { SegmentSizeBytes = 64 * 1024, FileSystem = fs };

    [Fact]
    public async Task AFailedFsyncFailsTheAppendAndEveryLaterOne()
    {
        using var dir = new TempDir();
        var fs = new FaultyFileSystem();
        var rng = new Random(1);
        var good = TestData.Entries(1, 5, 1, 100, rng);
        var wal = Wal.Create(dir.Path, TestData.Metadata(), Options(fs));
        await wal.AppendAsync(good);
        fs.FailNextSync = true;
        await Assert.ThrowsAsync<WalFailedException>(() => wal.AppendAsync(TestData.Entries(6, 1, 1, 100, rng)));
        // The next fsync would succeed, but the pages of the failed one may be gone: refuse.
        await Assert.ThrowsAsync<WalFailedException>(() => wal.AppendAsync(TestData.Entries(7, 1, 1, 100, rng)));
        await Assert.ThrowsAsync<WalFailedException>(() => wal.SyncAsync());
        wal.Abandon();
        using var reopened = Wal.Open(dir.Path, Options(new FaultyFileSystem()));
        Assert.True(reopened.Replay.Entries.Count >= 5);
        TestData.AssertSameEntries(good, reopened.Replay.Entries.Take(5).ToArray());
    }

    [Fact]
    public async Task AFailedWriteFailsTheBatchAndTheWal()
    {
        using var dir = new TempDir();
        var fs = new FaultyFileSystem();
        var rng = new Random(2);
        var wal = Wal.Create(dir.Path, TestData.Metadata(), Options(fs));
        await wal.AppendAsync(TestData.Entries(1, 3, 1, 100, rng));
        fs.FailNextWrite = true;
        await Assert.ThrowsAsync<WalFailedException>(() => wal.AppendAsync(TestData.Entries(4, 1, 1, 100, rng)));
        await Assert.ThrowsAsync<WalFailedException>(() => wal.AppendAsync(TestData.Entries(5, 1, 1, 100, rng)));
        wal.Abandon();
        using var reopened = Wal.Open(dir.Path, Options(new FaultyFileSystem()));
        Assert.Equal(3, reopened.Replay.Entries.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(100)]
    [InlineData(700)]
    public async Task AShortWriteLeavesATornTailThatReopenRepairs(int bytesWritten)
    {
        using var dir = new TempDir();
        var fs = new FaultyFileSystem();
        var rng = new Random(3);
        var good = TestData.Entries(1, 4, 1, 300, rng);
        var wal = Wal.Create(dir.Path, TestData.Metadata(), Options(fs));
        await wal.AppendAsync(good);
        fs.ShortWriteBytes = bytesWritten;
        await Assert.ThrowsAsync<WalFailedException>(() => wal.AppendAsync(TestData.Entries(5, 3, 1, 300, rng)));
        wal.Abandon();
        using (var reopened = Wal.Open(dir.Path, Options(new FaultyFileSystem())))
        {
            // The short write's whole records (if any) may stay: they are a valid prefix. The
            // synced ones are all there; nothing after them is garbage.
            Assert.InRange(reopened.Replay.Entries.Count, 4, 7);
            TestData.AssertSameEntries(good, reopened.Replay.Entries.Take(4).ToArray());
            await reopened.AppendAsync(new[] { new Entry(2, (ulong)reopened.Replay.Entries.Count + 1, EntryType.Normal, new byte[] { 7 }) });
        }
        using var again = Wal.Open(dir.Path, Options(new FaultyFileSystem()));
        Assert.Equal(2UL, again.Replay.Entries[^1].Term);
    }

    [Fact]
    public async Task AFailureWhilePreparingTheNextSegmentFailsTheWalAtTheCut()
    {
        using var dir = new TempDir();
        var fs = new FaultyFileSystem { FaultSuffix = ".tmp" };
        var options = new WalOptions { SegmentSizeBytes = 8 * 1024, MaxBatchBytes = 4096, FileSystem = fs };
        var rng = new Random(4);
        var wal = Wal.Create(dir.Path, TestData.Metadata(), options);
        // Fail the segment start's fsync in the cut: the WAL must not continue into that file.
        await wal.AppendAsync(TestData.Entries(1, 5, 1, 1000, rng));
        fs.FailNextSync = true;
        var failed = false;
        for (var i = 0; i < 20 && !failed; i++)
        {
            try
            {
                await wal.AppendAsync(TestData.Entries(6 + (ulong)i, 1, 1, 1000, rng));
            }
            catch (WalFailedException)
            {
                failed = true;
            }
        }
        Assert.True(failed, "the failed fsync of the new segment was not reported");
        await Assert.ThrowsAsync<WalFailedException>(() => wal.SyncAsync());
        wal.Abandon();
    }
}
