using Ketch.Raft;
using Xunit;
using Xunit.Abstractions;

namespace Ketch.Wal.Tests;

/// <summary>
/// What a crash can leave at the end of the log, and what it cannot: every byte offset of the
/// last records truncated, sector-granular torn writes, and bit flips in synced records, each
/// reopened and checked against docs/wal.md's torn-tail rules.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    private const string Dir = "/wal";
    private const int LastRecords = 8;

    private static WalOptions Options(CrashFileSystem fs) => new()
    {
        SegmentSizeBytes = 64 * 1024,
        MaxBatchBytes = 8 * 1024,
        FileSystem = fs,
    };

    /// <summary>A one-segment log of 30 entries, each appended and synced alone, with payloads of
    /// 40..1400 bytes so that records both share and straddle sectors.</summary>
    private static (byte[] Segment, string Name, Entry[] Entries, List<ScannedRecord> Records) BuildLog()
    {
        var fs = new CrashFileSystem();
        var rng = new Random(42);
        var entries = new Entry[30];
        using (var wal = Wal.Create(Dir, TestData.Metadata(), Options(fs)))
        {
            for (var i = 0; i < entries.Length; i++)
            {
                var data = new byte[rng.Next(40, 1400)];
                rng.NextBytes(data);
                entries[i] = new Entry(1, (ulong)i + 1, EntryType.Normal, data);
                wal.AppendAsync(new[] { entries[i] }).GetAwaiter().GetResult();
            }
        }
        var name = fs.List(Dir).Single(n => n.EndsWith(".wal", StringComparison.Ordinal));
        var bytes = fs.ReadAll(Path.Combine(Dir, name));
        var scan = SegmentScanner.Scan(name, bytes, isLast: true, 8 * 1024);
        return (bytes, name, entries, scan.Records);
    }

    private static long RecordEnd(ScannedRecord r) => r.Offset + RecordFrame.RecordLength(r.Payload.Length);

    /// <summary>The entries a reopen must find when the file holds only <paramref name="validUpTo"/> bytes of the log.</summary>
    private static Entry[] Expected(Entry[] entries, List<ScannedRecord> records, long validUpTo)
    {
        var complete = records.Count(r => r.Type == RecordType.Entry && RecordEnd(r) <= validUpTo);
        return entries[..complete];
    }

    [Fact]
    public void TruncationAtEveryByteOfTheLastRecordsDropsOnlyTheTornTail()
    {
        var (segment, name, entries, records) = BuildLog();
        var from = records[^LastRecords].Offset;
        var end = RecordEnd(records[^1]);
        var offsets = 0;
        var reopenedAndAppended = 0;
        for (var length = from; length <= end; length++)
        {
            var fs = new CrashFileSystem();
            fs.Put(Path.Combine(Dir, name), segment.AsSpan(0, (int)length).ToArray());
            var read = WalReader.Read(fs, Dir, 8 * 1024);
            var expected = Expected(entries, records, length);
            TestData.AssertSameEntries(expected, read.Replay.Entries);
            offsets++;
            if (length % 41 == 0 || length == end)
            {
                // The repaired log takes new appends, which survive a further reopen.
                ReopenAppendReopen(fs, expected);
                reopenedAndAppended++;
            }
        }
        output.WriteLine($"truncation: {offsets} byte offsets over the last {LastRecords} records, {reopenedAndAppended} repaired and appended to");
        Assert.True(offsets > 1000);
    }

    [Fact]
    public void TornWritesOfWholeSectorsDropOnlyTheTornTail()
    {
        // A preallocated file keeps its length: an unwritten sector reads as zeros. Zero every
        // sector of the last records from some point, and also leave single later sectors written
        // (a torn write whose sectors reached the disk out of order).
        var (segment, name, entries, records) = BuildLog();
        var from = records[^(3 * LastRecords)].Offset;
        var end = RecordEnd(records[^1]);
        var cases = 0;
        for (var cut = (from / 512 * 512) + 512; cut < end; cut += 512)
        {
            foreach (var keepLaterSector in new[] { false, true })
            {
                var image = (byte[])segment.Clone();
                image.AsSpan((int)cut, (int)(end - cut)).Clear();
                if (keepLaterSector && cut + 1024 < end)
                {
                    segment.AsSpan((int)cut + 512, 512).CopyTo(image.AsSpan((int)cut + 512));
                }
                var fs = new CrashFileSystem();
                fs.Put(Path.Combine(Dir, name), image);
                var expected = Expected(entries, records, cut);
                TestData.AssertSameEntries(expected, WalReader.Read(fs, Dir, 8 * 1024).Replay.Entries);
                ReopenAppendReopen(fs, expected);
                cases++;
            }
        }
        output.WriteLine($"sector-torn writes: {cases} cases over the last {3 * LastRecords} records");
    }

    [Fact]
    public void BitFlipsInSyncedRecordsAreReportedWithFileAndOffset()
    {
        var (segment, name, _, records) = BuildLog();
        var path = Path.Combine(Dir, name);
        var flips = 0;
        void Check(long offset, int bit)
        {
            var image = (byte[])segment.Clone();
            image[offset] ^= (byte)(1 << bit);
            var fs = new CrashFileSystem();
            fs.Put(path, image);
            var ex = Assert.Throws<WalCorruptionException>(() => WalReader.Read(fs, Dir, 8 * 1024));
            Assert.Equal(path, ex.FilePath);
            var record = records.Last(r => r.Offset <= offset);
            // The error names the damaged record (or its padding).
            Assert.InRange(ex.Offset, record.Offset, offset);
            Assert.Contains(path, ex.Message, StringComparison.Ordinal);
            flips++;
        }
        // Every byte of the last records, one bit each (the bit varies with the offset)...
        var from = records[^LastRecords].Offset;
        var end = RecordEnd(records[^1]);
        for (var off = from; off < end; off++)
        {
            Check(off, (int)(off % 8));
        }
        var exhaustive = flips;
        // ...and random bits anywhere in the log.
        var rng = new Random(9);
        for (var i = 0; i < 500; i++)
        {
            Check(rng.NextInt64(0, end), rng.Next(8));
        }
        output.WriteLine($"bit flips: {exhaustive} offsets of the last {LastRecords} records + {flips - exhaustive} random, all reported");
    }

    [Fact]
    public void GarbageWithinOneBatchAfterTheLogIsATornTailBeyondItIsCorruption()
    {
        var (segment, name, entries, records) = BuildLog();
        var path = Path.Combine(Dir, name);
        var end = RecordEnd(records[^1]);

        var near = (byte[])segment.Clone();
        near[end + 3000] = 0x5a; // a stray sector of an unsynced batch
        var fs = new CrashFileSystem();
        fs.Put(path, near);
        TestData.AssertSameEntries(entries, WalReader.Read(fs, Dir, 8 * 1024).Replay.Entries);
        ReopenAppendReopen(fs, entries);

        var far = (byte[])segment.Clone();
        far[end + 20_000] = 0x5a; // one batch cannot reach there: synced data behind a hole
        fs = new CrashFileSystem();
        fs.Put(path, far);
        var ex = Assert.Throws<WalCorruptionException>(() => WalReader.Read(fs, Dir, 8 * 1024));
        Assert.Equal(end, ex.Offset);
    }

    [Fact]
    public async Task DamageInASealedSegmentIsCorruptionNotATornTail()
    {
        var fs = new CrashFileSystem();
        var rng = new Random(3);
        var small = new WalOptions { SegmentSizeBytes = 8 * 1024, MaxBatchBytes = 4096, FileSystem = fs };
        using (var wal = Wal.Create(Dir, TestData.Metadata(), small))
        {
            foreach (var e in TestData.Entries(1, 40, 1, 700, rng))
            {
                await wal.AppendAsync(new[] { e });
            }
        }
        var names = fs.List(Dir).Where(n => n.EndsWith(".wal", StringComparison.Ordinal)).Order().ToArray();
        Assert.True(names.Length >= 3);
        var sealedPath = Path.Combine(Dir, names[0]);
        var bytes = fs.ReadAll(sealedPath);
        var scan = SegmentScanner.Scan(sealedPath, bytes, isLast: false, 4096);
        var last = scan.Records[^1];
        // Truncate the sealed segment inside its last record: not torn, since the next segment exists.
        fs.Put(sealedPath, bytes.AsSpan(0, (int)last.Offset + 20).ToArray());
        var ex = Assert.Throws<WalCorruptionException>(() => WalReader.Read(fs, Dir, 4096));
        Assert.Equal(sealedPath, ex.FilePath);
        Assert.Equal(last.Offset, ex.Offset);
        // A missing segment in the middle is reported too.
        fs.Put(sealedPath, bytes);
        fs.Delete(Path.Combine(Dir, names[1]));
        Assert.Throws<WalCorruptionException>(() => WalReader.Read(fs, Dir, 4096));
    }

    [Fact]
    public async Task RandomCrashesNeverLoseASyncedAppend()
    {
        // Appends of 1..6 entries, some synced and some not; a power cut at a random moment keeps a
        // random prefix of the unsynced writes and random sectors of the one in flight.
        var checkedCrashes = 0;
        for (var seed = 0; seed < 150; seed++)
        {
            var rng = new Random(seed);
            var fs = new CrashFileSystem();
            var options = new WalOptions { SegmentSizeBytes = 8 * 1024, MaxBatchBytes = 4096, FileSystem = fs, MaxOldSegments = 100 };
            var written = new List<Entry>();
            var synced = 0;
            var wal = Wal.Create(Dir, TestData.Metadata(), options);
            var next = 1UL;
            var steps = rng.Next(1, 40);
            for (var s = 0; s < steps; s++)
            {
                var batch = TestData.Entries(next, rng.Next(1, 6), 1, rng.Next(1, 900), rng);
                next += (ulong)batch.Length;
                var sync = rng.Next(3) > 0;
                await wal.AppendAsync(batch, new HardState(1, 1, next - 1), sync);
                written.AddRange(batch);
                if (sync)
                {
                    synced = written.Count;
                }
            }
            var image = fs.Crash(rng);
            wal.Abandon();
            var reopened = Wal.Open(Dir, options with { FileSystem = image });
            var got = reopened.Replay.Entries;
            Assert.True(got.Count >= synced, $"seed {seed}: {got.Count} entries after the crash, {synced} were synced");
            TestData.AssertSameEntries(written[..got.Count], got);
            // The repaired log continues: append, reopen, all there.
            var more = TestData.Entries((ulong)got.Count + 1, 3, 2, 300, rng);
            await reopened.AppendAsync(more);
            reopened.Dispose();
            using var again = Wal.Open(Dir, options with { FileSystem = image });
            TestData.AssertSameEntries([.. got, .. more], again.Replay.Entries);
            checkedCrashes++;
        }
        output.WriteLine($"random crashes: {checkedCrashes}");
    }

    private static void ReopenAppendReopen(CrashFileSystem fs, Entry[] expected)
    {
        var options = Options(fs);
        var extra = new Entry(9, (ulong)expected.Length + 1, EntryType.Normal, new byte[] { 1, 2, 3 });
        using (var wal = Wal.Open(Dir, options))
        {
            TestData.AssertSameEntries(expected, wal.Replay.Entries);
            wal.AppendAsync(new[] { extra }).GetAwaiter().GetResult();
        }
        using var again = Wal.Open(Dir, options);
        TestData.AssertSameEntries([.. expected, extra], again.Replay.Entries);
    }
}
