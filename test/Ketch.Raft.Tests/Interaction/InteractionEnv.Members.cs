using Ketch.Raft.Storage;
using Ketch.Raft.Tests.DataDriven;

namespace Ketch.Raft.Tests.Interaction;

/// <summary>Commands that create members and act on them as their application would.</summary>
internal sealed partial class InteractionEnv
{
    /// <summary>
    /// <c>add-nodes N voters=(..) [learners=(..)] [index=I content=..] [join=ID] [election=10]
    /// [heartbeat=1] [checkquorum=true] [prevote=true] [read-only=safe|lease] [max-inflight=N]
    /// [max-inflight-bytes=B] [max-size=B] [max-uncommitted=B] [max-committed-size=B]
    /// [disable-forwarding=true] [seed=S]</c>. Ids follow the existing members. Without index=
    /// the storage starts empty with the configuration; with it, from a snapshot at (I, term 1)
    /// holding <c>content</c>. With <c>join=ID</c> the new members start with nothing at all and
    /// join member ID's group (see <see cref="PrepareJoin"/>).
    /// </summary>
    private void AddNodes(TestCase tc)
    {
        var n = (int)Ids(tc).Single();
        var first = (ulong)_members.Count + 1;
        var voters = tc.Ids("voters");
        if (voters.Count == 0)
        {
            voters = Enumerable.Range(0, n).Select(i => first + (ulong)i).ToArray();
        }
        var learners = tc.Ids("learners");
        var index = tc.UInt64("index", 0);
        var join = tc.UInt64("join", 0);
        var group = join > 0 ? PrepareJoin(Get(join), Enumerable.Range(0, n).Select(i => first + (ulong)i)) : first;
        var readOnly = tc.Value("read-only", "safe") switch
        {
            "safe" => ReadOnlyOption.Safe,
            "lease" => ReadOnlyOption.LeaseBased,
            var o => throw new ArgumentException($"unknown read-only option {o}"),
        };
        for (var i = 0; i < n; i++)
        {
            var id = first + (ulong)i;
            MemoryStorage storage;
            if (join > 0)
            {
                storage = new MemoryStorage();
            }
            else if (index > 0)
            {
                storage = new MemoryStorage();
                var content = System.Text.Encoding.ASCII.GetBytes(tc.Value("content", ""));
                var err = storage.ApplySnapshot(new Snapshot(content, new SnapshotMetadata(index, 1, ConfState.Of(voters, learners))));
                if (err != StorageError.None)
                {
                    throw new InvalidOperationException($"applying the initial snapshot: {err}");
                }
            }
            else
            {
                storage = MemoryStorage.WithMembers(voters, learners);
            }
            var config = new RaftConfig
            {
                Id = id,
                Storage = storage,
                Applied = join > 0 ? 0 : index,
                ElectionTicks = tc.Int32("election", 10),
                HeartbeatTicks = tc.Int32("heartbeat", 1),
                CheckQuorum = tc.Bool("checkquorum"),
                PreVote = tc.Bool("prevote"),
                ReadOnlyOption = readOnly,
                DisableProposalForwarding = tc.Bool("disable-forwarding"),
                MaxInflightMsgs = tc.Int32("max-inflight", 256),
                MaxInflightBytes = tc.Int64("max-inflight-bytes", 0),
                MaxSizePerMsgBytes = tc.Int64("max-size", 1024 * 1024),
                MaxUncommittedEntriesBytes = tc.Int64("max-uncommitted", long.MaxValue),
                MaxCommittedSizePerReadyBytes = tc.Int64("max-committed-size", 64L * 1024 * 1024),
                RandomSeed = tc.UInt64("seed", 0),
                Logger = Logger,
            };
            _members.Add(new Member(id, group, config, storage));
        }
    }

    /// <summary>
    /// Readies member <paramref name="leader"/>'s group for brand-new members with empty logs:
    /// they must already be in the configuration it applied, and it compacts its log at its
    /// applied index. A newcomer must learn the configuration from a snapshot: replaying the log
    /// from index 1 would start it with no configuration at all (the group's bootstrap
    /// configuration is not in the log), so it could take the first conf change it applies
    /// for the whole membership. The compaction makes the leader send it that snapshot.
    /// Returns the group the newcomers join.
    /// </summary>
    private ulong PrepareJoin(Member leader, IEnumerable<ulong> newcomers)
    {
        var cs = leader.ConfState;
        foreach (var id in newcomers)
        {
            if (!cs.Voters.Contains(id) && !cs.VotersOutgoing.Contains(id) && !cs.Learners.Contains(id))
            {
                throw new ArgumentException($"{leader.Id} has not applied a configuration with {id} ({cs.Describe()}): propose and apply the change first");
            }
        }
        CompactAt(leader, leader.Applied);
        return leader.Group;
    }

    /// <summary><c>restart ID</c>: a crash and restart. What the member persisted survives
    /// (its storage, and its state machine up to what it applied); everything else, its
    /// unstable log tail and unsent messages included, is lost. Raft restarts with the
    /// configuration of the storage's snapshot; if the member applied a conf change since, its
    /// application replays the log from that snapshot, so that the change is applied again.</summary>
    private void Restart(ulong id)
    {
        var m = Get(id);
        var lost = m.Node.HasReady();
        var snapIndex = m.Storage.FirstIndex() - 1;
        if (m.ConfIndex > snapIndex)
        {
            Line($"{id} replays its log from its snapshot at {snapIndex}: it applied conf change {m.ConfIndex} since");
            m.Applied = snapIndex;
            m.ConfState = m.Storage.InitialState().ConfState;
            m.ConfIndex = snapIndex;
        }
        m.Node = new RawNode(new RaftConfig
        {
            Id = m.Config.Id,
            Storage = m.Storage,
            Applied = m.Applied,
            ElectionTicks = m.Config.ElectionTicks,
            HeartbeatTicks = m.Config.HeartbeatTicks,
            CheckQuorum = m.Config.CheckQuorum,
            PreVote = m.Config.PreVote,
            ReadOnlyOption = m.Config.ReadOnlyOption,
            DisableProposalForwarding = m.Config.DisableProposalForwarding,
            MaxInflightMsgs = m.Config.MaxInflightMsgs,
            MaxInflightBytes = m.Config.MaxInflightBytes,
            MaxSizePerMsgBytes = m.Config.MaxSizePerMsgBytes,
            MaxUncommittedEntriesBytes = m.Config.MaxUncommittedEntriesBytes,
            MaxCommittedSizePerReadyBytes = m.Config.MaxCommittedSizePerReadyBytes,
            RandomSeed = m.Config.RandomSeed,
            Logger = Logger,
        });
        if (lost)
        {
            Line($"{id} lost an unprocessed Ready in the crash");
        }
    }

    /// <summary><c>propose ID DATA</c>: the application proposes DATA on member ID.</summary>
    private void Propose(TestCase tc)
    {
        var pos = tc.Positional.Where(p => p != Quiet).ToArray();
        if (pos.Length != 2)
        {
            throw new ArgumentException("propose needs a member id and the data");
        }
        var result = Get(ulong.Parse(pos[0])).Node.Propose(System.Text.Encoding.ASCII.GetBytes(pos[1]));
        if (result != StepResult.Ok)
        {
            Line($"proposal result: {result}");
        }
    }

    private void Tick(ulong id, int times)
    {
        var node = Get(id).Node;
        for (var i = 0; i < times; i++)
        {
            node.Tick();
        }
    }

    /// <summary><c>tick-all [n=N]</c>: N rounds in which every member ticks once, in id order:
    /// the first whose randomized election timeout expires campaigns first.</summary>
    private void TickAll(int rounds)
    {
        for (var r = 0; r < rounds; r++)
        {
            foreach (var m in _members)
            {
                m.Node.Tick();
            }
        }
    }

    /// <summary><c>tick-election ID</c>: one election timeout passes on the member. A leader
    /// ticks ElectionTicks times (one check-quorum round); any other member ticks until its
    /// randomized timeout fires and it campaigns (at most 2 × ElectionTicks ticks).</summary>
    private void TickElection(ulong id)
    {
        var m = Get(id);
        var raft = m.Raft;
        if (raft.State == StateType.Leader)
        {
            Tick(id, m.Config.ElectionTicks);
            return;
        }
        var (term, state) = (raft.Term, raft.State);
        for (var i = 0; i < 2 * m.Config.ElectionTicks && raft.Term == term && raft.State == state; i++)
        {
            m.Node.Tick();
        }
    }

    /// <summary><c>report-unreachable FROM TO</c>: FROM's transport could not reach TO.</summary>
    private void ReportUnreachable(TestCase tc)
    {
        var ids = Ids(tc);
        if (ids.Count != 2)
        {
            throw new ArgumentException("report-unreachable needs FROM and TO");
        }
        Get(ids[0]).Node.ReportUnreachable(ids[1]);
    }

    /// <summary><c>report-snapshot FROM TO [failed=true]</c>: how sending a snapshot went.</summary>
    private void ReportSnapshot(TestCase tc)
    {
        var ids = Ids(tc);
        if (ids.Count != 2)
        {
            throw new ArgumentException("report-snapshot needs FROM and TO");
        }
        Get(ids[0]).Node.ReportSnapshot(ids[1], tc.Bool("failed"));
    }

    /// <summary><c>compact ID INDEX</c>: the application of member ID snapshots its state as of
    /// INDEX (which it must have applied) and compacts its log up to there.</summary>
    private void Compact(TestCase tc)
    {
        var ids = Ids(tc);
        if (ids.Count != 2)
        {
            throw new ArgumentException("compact needs a member id and an index");
        }
        CompactAt(Get(ids[0]), ids[1]);
    }

    private void CompactAt(Member m, ulong index)
    {
        if (index > m.Applied)
        {
            throw new ArgumentException($"cannot snapshot at {index}: member {m.Id} applied only up to {m.Applied}");
        }
        if (index < m.ConfIndex)
        {
            // The application keeps only the configuration as of what it applied.
            throw new ArgumentException($"cannot snapshot at {index}: member {m.Id} changed its configuration at {m.ConfIndex}");
        }
        var snap = m.Storage.CreateSnapshot(index, m.ConfState, System.Text.Encoding.ASCII.GetBytes($"state@{index}"));
        if (!snap.IsOk)
        {
            throw new InvalidOperationException($"creating the snapshot: {snap.Error}");
        }
        var err = m.Storage.Compact(index);
        if (err != StorageError.None)
        {
            throw new InvalidOperationException($"compacting: {err}");
        }
        RaftLog(m.Id);
    }

    /// <summary>Cuts every link between <paramref name="side"/> and the other members.</summary>
    private void Partition(IReadOnlyList<ulong> side)
    {
        foreach (var a in side)
        {
            foreach (var b in _members.Select(m => m.Id).Where(b => !side.Contains(b)))
            {
                _cut.Add((a, b));
                _cut.Add((b, a));
            }
        }
    }

    /// <summary><c>heal</c>: restores every link. Messages still in flight over a cut link were
    /// sent during the partition and are lost with it.</summary>
    private void Heal()
    {
        foreach (var msg in _inFlight.Where(x => _cut.Contains((x.From, x.To))).ToArray())
        {
            _inFlight.Remove(msg);
            Line("dropped: " + DescribeMessage(msg));
        }
        _cut.Clear();
    }
}
