using Ketch.Raft.Storage;

namespace Ketch.Raft.Tests.Paper;

/// <summary>
/// A small synchronous cluster for the paper-property tests: each member's Ready is handled
/// exactly by the contract (persist to its MemoryStorage, then send), messages are delivered
/// in order until the cluster is quiet, and links can be cut.
/// </summary>
internal sealed class TestNetwork
{
    private readonly Dictionary<ulong, MemoryStorage> _storages = [];
    private readonly HashSet<(ulong From, ulong To)> _cut = [];
    private readonly Queue<Message> _inFlight = new();

    public TestNetwork(int members, bool preVote = false, bool checkQuorum = false, int electionTicks = 10,
        Func<ulong, (ulong[] LogTerms, ulong Term)>? logs = null, ReadOnlyOption readOnly = ReadOnlyOption.Safe)
    {
        var ids = Enumerable.Range(1, members).Select(i => (ulong)i).ToArray();
        foreach (var id in ids)
        {
            _storages[id] = MemoryStorage.WithMembers(ids);
            if (logs is not null)
            {
                // Start from a durable log: entry i+1 has term LogTerms[i].
                var (terms, term) = logs(id);
                _storages[id].Append(terms.Select((t, i) => new Entry(t, (ulong)i + 1, EntryType.Normal, new[] { (byte)'a', (byte)('0' + i) })).ToArray());
                _storages[id].SetHardState(new HardState(term, 0, 0));
            }
            Nodes[id] = new RawNode(new RaftConfig
            {
                Id = id,
                Storage = _storages[id],
                ElectionTicks = electionTicks,
                HeartbeatTicks = 1,
                PreVote = preVote,
                CheckQuorum = checkQuorum,
                ReadOnlyOption = readOnly,
                RandomSeed = 42,
            });
        }
    }

    public Dictionary<ulong, RawNode> Nodes { get; } = [];

    /// <summary>The configuration each member switched to when it last applied a change.</summary>
    public Dictionary<ulong, ConfState> ConfStates { get; } = [];

    /// <summary>Every read-index answer, with the member that got it.</summary>
    public List<(ulong Id, ReadState State)> ReadStates { get; } = [];

    /// <summary>Starts a new member with an empty log, cut off until <see cref="Join"/>.</summary>
    public void AddMember(ulong id, int electionTicks = 10)
    {
        _storages[id] = new MemoryStorage();
        Nodes[id] = new RawNode(new RaftConfig { Id = id, Storage = _storages[id], ElectionTicks = electionTicks, RandomSeed = 7 });
        Isolate(id);
    }

    /// <summary>Lets a new member in once the leader has applied the change that adds it: the
    /// leader compacts its log into a snapshot (whose configuration includes the newcomer), so
    /// the newcomer learns the configuration from it, as a member added to a running etcd
    /// cluster does, then heartbeats reach it.</summary>
    public void Join()
    {
        var lead = Leader() ?? throw new InvalidOperationException("no leader");
        var status = Nodes[lead].Status();
        var storage = _storages[lead];
        storage.CreateSnapshot(status.Applied, status.Config, "snap"u8.ToArray());
        storage.Compact(status.Applied);
        Heal();
        Tick(lead, 1);
    }

    /// <summary>Every committed entry each member applied, in order.</summary>
    public Dictionary<ulong, List<Entry>> Applied { get; } = [];

    /// <summary>Every message delivered, for assertions about what was sent.</summary>
    public List<Message> Delivered { get; } = [];

    public MemoryStorage Storage(ulong id) => _storages[id];

    public Raft Raft(ulong id) => Nodes[id].Raft;

    public void Cut(ulong a, ulong b)
    {
        _cut.Add((a, b));
        _cut.Add((b, a));
    }

    public void Isolate(ulong id)
    {
        foreach (var other in Nodes.Keys.Where(o => o != id))
        {
            Cut(id, other);
        }
    }

    public void Heal() => _cut.Clear();

    /// <summary>Steps a message in from outside (as if a peer sent it), then runs to quiet.</summary>
    public void Send(Message m)
    {
        _inFlight.Enqueue(m);
        Run();
    }

    public void Campaign(ulong id)
    {
        Nodes[id].Campaign();
        Run();
    }

    public StepResult Propose(ulong id, string data)
    {
        var r = Nodes[id].Propose(System.Text.Encoding.UTF8.GetBytes(data));
        Run();
        return r;
    }

    public void Tick(ulong id, int ticks)
    {
        for (var i = 0; i < ticks; i++)
        {
            Nodes[id].Tick();
        }
        Run();
    }

    /// <summary>Handles Readies and delivers messages until nothing moves.</summary>
    public void Run()
    {
        for (var guard = 0; guard < 100_000; guard++)
        {
            var moved = false;
            foreach (var (id, node) in Nodes.OrderBy(kv => kv.Key))
            {
                while (node.HasReady())
                {
                    moved = true;
                    var rd = node.Ready();
                    foreach (var m in rd.Messages)
                    {
                        _inFlight.Enqueue(m);
                    }
                    _storages[id].Save(rd);
                    foreach (var m in rd.MessagesAfterPersist)
                    {
                        _inFlight.Enqueue(m);
                    }
                    if (!Applied.TryGetValue(id, out var applied))
                    {
                        Applied[id] = applied = [];
                    }
                    foreach (var e in rd.CommittedEntries.Span)
                    {
                        applied.Add(e);
                        if (e.Type != EntryType.Normal)
                        {
                            ConfStates[id] = node.ApplyConfChange(Ketch.Raft.Encoding.RaftEncoding.ReadConfChangeEntry(e));
                        }
                    }
                    ReadStates.AddRange(rd.ReadStates.Select(r => (id, r)));
                    node.Advance();
                }
            }
            while (_inFlight.TryDequeue(out var m))
            {
                moved = true;
                if (_cut.Contains((m.From, m.To)) || !Nodes.TryGetValue(m.To, out var to))
                {
                    continue;
                }
                Delivered.Add(m);
                to.Step(m);
            }
            if (!moved)
            {
                return;
            }
        }
        throw new InvalidOperationException("the network did not quiesce");
    }

    public ulong? Leader() => Nodes.Values
        .Select(n => n.Status())
        .Where(s => s.SoftState.RaftState == StateType.Leader)
        .OrderByDescending(s => s.HardState.Term)
        .Select(s => (ulong?)s.Id)
        .FirstOrDefault();

    public static Message Vote(ulong from, ulong to, ulong term, ulong lastIndex, ulong lastTerm) => new()
    {
        Type = MessageType.Vote,
        From = from,
        To = to,
        Term = term,
        Index = lastIndex,
        LogTerm = lastTerm,
    };

    public static IEnumerable<string> Payloads(IEnumerable<Entry> entries) =>
        entries.Where(e => !e.Data.IsEmpty).Select(e => System.Text.Encoding.UTF8.GetString(e.Data.Span));
}
