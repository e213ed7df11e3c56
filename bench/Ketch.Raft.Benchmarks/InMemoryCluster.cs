using Ketch.Raft;
using Ketch.Raft.Storage;

namespace Ketch.Raft.Benchmarks;

/// <summary>
/// A cluster of RawNodes wired together in memory: messages are stepped straight into their
/// recipient and "persisting" is appending to a MemoryStorage. What is left is the cost of
/// the Raft core itself.
/// </summary>
public sealed class InMemoryCluster
{
    private readonly RawNode[] _nodes;
    private readonly MemoryStorage[] _storages;
    private readonly Queue<Message> _network = new();
    private readonly ulong[] _applied;

    public InMemoryCluster(int members)
    {
        var ids = Enumerable.Range(1, members).Select(i => (ulong)i).ToArray();
        _nodes = new RawNode[members];
        _storages = new MemoryStorage[members];
        _applied = new ulong[members];
        for (var i = 0; i < members; i++)
        {
            _storages[i] = MemoryStorage.WithMembers(ids);
            _nodes[i] = new RawNode(new RaftConfig
            {
                Id = ids[i],
                Storage = _storages[i],
                MaxInflightMsgs = 256,
                MaxSizePerMsgBytes = 1024 * 1024,
            });
        }
        _nodes[0].Campaign();
        Pump();
        if (_nodes[0].Status().SoftState.RaftState != StateType.Leader)
        {
            throw new InvalidOperationException("member 1 did not become leader");
        }
    }

    public RawNode Leader => _nodes[0];

    /// <summary>Entries applied by the leader so far.</summary>
    public ulong LeaderApplied => _applied[0];

    /// <summary>Handles every Ready and delivers every message until the cluster is quiet.</summary>
    public void Pump()
    {
        var busy = true;
        while (busy)
        {
            busy = false;
            for (var i = 0; i < _nodes.Length; i++)
            {
                var node = _nodes[i];
                if (!node.HasReady())
                {
                    continue;
                }
                busy = true;
                var rd = node.Ready();
                foreach (var m in rd.Messages)
                {
                    _network.Enqueue(m);
                }
                var storage = _storages[i];
                storage.Save(rd);
                foreach (var m in rd.MessagesAfterPersist)
                {
                    _network.Enqueue(m);
                }
                if (!rd.CommittedEntries.IsEmpty)
                {
                    _applied[i] = rd.CommittedEntries.Span[^1].Index;
                }
                node.Advance();
                // Keep memory flat over long runs, as a real member does after a snapshot:
                // compact every 10,000 applied entries, keeping 5,000 for slow followers
                // (etcd keeps 5,000 "catch-up" entries).
                if (_applied[i] > storage.FirstIndex() + 15_000)
                {
                    storage.Compact(_applied[i] - 5_000);
                }
            }
            while (_network.TryDequeue(out var m))
            {
                _nodes[m.To - 1].Step(m);
                busy = true;
            }
        }
    }
}
