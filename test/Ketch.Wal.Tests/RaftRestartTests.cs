using Ketch.Raft;
using Ketch.Raft.Storage;
using Xunit;
using Xunit.Abstractions;

namespace Ketch.Wal.Tests;

/// <summary>
/// Raft members persisting every Ready through a WalStorage on a crash-simulating file system,
/// crashed at random points (objects dropped unclosed, unsynced bytes partly lost) and restarted
/// from disk. After every restart the member's log and hard state must be exactly what it had
/// made durable, and across members the applied entries must agree (state-machine safety).
/// </summary>
public sealed class RaftRestartTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1, 100)]
    [InlineData(3, 60)]
    public async Task CrashesAtRandomPointsLoseNothingAcknowledged(int members, int seeds)
    {
        var crashes = 0;
        var applied = 0L;
        for (var seed = 0; seed < seeds; seed++)
        {
            using var cluster = new Cluster(members, seed);
            await cluster.Run(steps: 400);
            crashes += cluster.Crashes;
            applied += cluster.AppliedEntries;
        }
        output.WriteLine($"{members} member(s), {seeds} seeds: {crashes} crash-restarts, {applied} entries applied, all checks passed");
        Assert.True(crashes > seeds);
    }

    private sealed class Member
    {
        public required ulong Id { get; init; }
        public required CrashFileSystem Fs { get; set; }
        public required WalStorage Storage { get; set; }
        public required RawNode Node { get; set; }

        // What this member has made durable: the log (index -> term, data), its snapshot index and
        // the last hard state saved with a sync.
        public SortedDictionary<ulong, Entry> Log { get; } = [];
        public ulong SnapshotIndex { get; set; }
        public HardState SyncedHardState { get; set; }
        public ulong Applied { get; set; }
    }

    private sealed class Cluster : IDisposable
    {
        private const string Dir = "/member";
        private readonly Random _rng;
        private readonly ulong[] _ids;
        private readonly Member[] _members;
        private readonly Queue<Message> _network = new();
        private readonly Dictionary<ulong, Entry> _committed = [];
        private readonly int _seed;

        public Cluster(int n, int seed)
        {
            _seed = seed;
            _rng = new Random(seed);
            _ids = Enumerable.Range(1, n).Select(i => (ulong)i).ToArray();
            _members = new Member[n];
            for (var i = 0; i < n; i++)
            {
                var fs = new CrashFileSystem();
                var storage = WalStorage.Create(Dir, new WalMetadata(_ids[i], 0xc1, ConfState.Of(_ids)), Options(fs), snapshotsToKeep: 2);
                _members[i] = new Member { Id = _ids[i], Fs = fs, Storage = storage, Node = NewNode(_ids[i], storage, 0) };
            }
        }

        public int Crashes { get; private set; }

        /// <summary>Closes the members' storages: each holds a WAL writer thread until closed.</summary>
        public void Dispose()
        {
            foreach (var m in _members)
            {
                m.Storage.Dispose();
            }
        }

        public long AppliedEntries => _committed.Count;

        private WalOptions Options(CrashFileSystem fs) => new()
        {
            SegmentSizeBytes = 8 * 1024,
            MaxBatchBytes = 4096,
            MaxOldSegments = 1,
            Preallocate = _seed % 2 == 0,
            FileSystem = fs,
        };

        private RawNode NewNode(ulong id, WalStorage storage, ulong applied) => new(new RaftConfig
        {
            Id = id,
            Storage = storage,
            ElectionTicks = 10,
            HeartbeatTicks = 1,
            Applied = applied,
            RandomSeed = (ulong)(_seed * 31) + id,
        });

        public async Task Run(int steps)
        {
            _members[0].Node.Campaign();
            await Pump();
            for (var step = 0; step < steps; step++)
            {
                var m = _members[_rng.Next(_members.Length)];
                var action = _rng.Next(100);
                if (action < 55)
                {
                    var data = new byte[_rng.Next(1, 300)];
                    _rng.NextBytes(data);
                    m.Node.Propose(data);
                }
                else if (action < 80)
                {
                    m.Node.Tick();
                }
                else if (action < 88)
                {
                    if (m.Applied > m.SnapshotIndex + 5)
                    {
                        var err = await m.Storage.CreateSnapshotAsync(m.Applied, null, BitConverter.GetBytes(m.Applied));
                        Assert.Equal(StorageError.None, err);
                        m.SnapshotIndex = m.Applied;
                        foreach (var k in m.Log.Keys.Where(k => k <= m.Applied).ToArray())
                        {
                            m.Log.Remove(k);
                        }
                    }
                }
                else if (action < 91)
                {
                    Crash(m);
                    if (_rng.Next(2) == 0)
                    {
                        // Get a leader again soon, so that the run makes progress between crashes.
                        m.Node.Campaign();
                    }
                }
                await Pump();
            }
            foreach (var m in _members)
            {
                Crash(m);
            }
        }

        /// <summary>Drops the member's objects unclosed, keeps what a power cut would, restarts from disk.</summary>
        private void Crash(Member m)
        {
            var image = m.Fs.Crash(_rng);
            m.Storage.Abandon();
            m.Fs = image;
            m.Storage = WalStorage.Open(Dir, Options(image), snapshotsToKeep: 2);
            Crashes++;
            Verify(m);
            m.Applied = m.Storage.FirstIndex() - 1;
            m.Node = NewNode(m.Id, m.Storage, m.Applied);
            // Messages in flight to or from the crashed member are lost, as on a real network.
            var keep = _network.Where(x => x.To != m.Id && x.From != m.Id).ToArray();
            _network.Clear();
            foreach (var x in keep)
            {
                _network.Enqueue(x);
            }
        }

        private void Verify(Member m)
        {
            var s = m.Storage;
            var where = $"seed {_seed}, member {m.Id}";
            var hs = s.InitialState().HardState;
            Assert.True(hs.Term == m.SyncedHardState.Term && hs.Vote == m.SyncedHardState.Vote,
                $"{where}: hard state {hs.Describe()} after restart, {m.SyncedHardState.Describe()} was synced");
            Assert.True(hs.Commit >= m.SyncedHardState.Commit, $"{where}: commit went back");
            Assert.Equal(m.SnapshotIndex, s.FirstIndex() - 1);
            var expected = m.Log.Values.ToArray();
            var last = expected.Length == 0 ? m.SnapshotIndex : expected[^1].Index;
            Assert.True(last == s.LastIndex(), $"{where}: last index {s.LastIndex()} after restart, {last} was durable");
            if (expected.Length > 0)
            {
                var got = s.Entries(expected[0].Index, last + 1, long.MaxValue).Value.ToArray();
                TestData.AssertSameEntries(expected, got);
            }
            Assert.True(hs.Commit <= s.LastIndex(), $"{where}: commit {hs.Commit} past the last index {s.LastIndex()}");
        }

        private async Task Pump()
        {
            var busy = true;
            while (busy)
            {
                busy = false;
                foreach (var m in _members)
                {
                    while (m.Node.HasReady())
                    {
                        busy = true;
                        await Handle(m, m.Node.Ready());
                    }
                }
                while (_network.TryDequeue(out var msg))
                {
                    busy = true;
                    _members[msg.To - 1].Node.Step(msg);
                }
            }
        }

        private async Task Handle(Member m, Ready rd)
        {
            foreach (var x in rd.Messages)
            {
                _network.Enqueue(x);
            }
            await m.Storage.SaveAsync(rd);
            // Durable now: update the model of what this member holds.
            if (rd.Snapshot is { IsEmpty: false } snap)
            {
                m.Log.Clear();
                m.SnapshotIndex = snap.Metadata.Index;
            }
            var entries = rd.Entries.Span;
            if (!entries.IsEmpty)
            {
                var from = entries[0].Index;
                foreach (var k in m.Log.Keys.Where(k => k >= from).ToArray())
                {
                    m.Log.Remove(k);
                }
                foreach (var e in entries)
                {
                    if (e.Index > m.SnapshotIndex)
                    {
                        m.Log[e.Index] = e;
                    }
                }
            }
            if (rd.HardState is { } hs && rd.MustSync)
            {
                m.SyncedHardState = hs;
            }
            else if (rd.HardState is { } h2)
            {
                // Commit-only change: not synced, may be lost; the term and vote are unchanged.
                m.SyncedHardState = m.SyncedHardState with { Term = h2.Term, Vote = h2.Vote };
            }
            foreach (var x in rd.MessagesAfterPersist)
            {
                _network.Enqueue(x);
            }
            if (rd.Snapshot is { IsEmpty: false } applied)
            {
                m.Applied = applied.Metadata.Index;
            }
            foreach (var e in rd.CommittedEntries.Span)
            {
                if (_committed.TryGetValue(e.Index, out var other))
                {
                    Assert.True(other.Term == e.Term && other.Data.Span.SequenceEqual(e.Data.Span),
                        $"seed {_seed}: member {m.Id} applied {e.Describe()} but another applied {other.Describe()}");
                }
                else
                {
                    _committed[e.Index] = e;
                }
                m.Applied = e.Index;
            }
            m.Node.Advance();
        }
    }
}
