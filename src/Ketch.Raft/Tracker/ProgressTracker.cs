using Ketch.Raft.Quorum;

namespace Ketch.Raft.Tracker;

/// <summary>
/// The leader's book of the group: the active configuration (voters, learners), a
/// <see cref="Progress"/> for every member, and the votes of the current election.
/// Iteration is always in ascending id order so that a run is deterministic.
/// </summary>
public sealed class ProgressTracker : IAckedIndexer
{
    private readonly Dictionary<ulong, Progress> _progress = [];
    private readonly Dictionary<ulong, bool> _votes = [];
    private ulong[] _ids = [];

    internal ProgressTracker(int maxInflightMsgs, long maxInflightBytes)
    {
        MaxInflightMsgs = maxInflightMsgs;
        MaxInflightBytes = maxInflightBytes;
    }

    /// <summary>The flow-control window per follower, in messages.</summary>
    public int MaxInflightMsgs { get; }

    /// <summary>The flow-control window per follower, in bytes (0 = unlimited).</summary>
    public long MaxInflightBytes { get; }

    /// <summary>The voters (joint during a membership change).</summary>
    public JointConfig Voters { get; private set; } = new(MajorityConfig.Empty, MajorityConfig.Empty);

    /// <summary>The learners, sorted.</summary>
    public IReadOnlyList<ulong> Learners { get; private set; } = [];

    /// <summary>Voters of the outgoing half that become learners when the joint state is left.</summary>
    public IReadOnlyList<ulong> LearnersNext { get; private set; } = [];

    /// <summary>Whether the joint configuration is left automatically.</summary>
    public bool AutoLeave { get; private set; }

    /// <summary>Every member's progress, by id.</summary>
    public IReadOnlyDictionary<ulong, Progress> Progress => _progress;

    /// <summary>Member ids, ascending.</summary>
    public IReadOnlyList<ulong> Ids => _ids;

    /// <summary>Member ids, ascending, as a span: iterating it allocates nothing, which
    /// matters on the leader's per-proposal broadcast path.</summary>
    internal ReadOnlySpan<ulong> IdSpan => _ids;

    /// <summary>The votes recorded in the current election.</summary>
    public IReadOnlyDictionary<ulong, bool> Votes => _votes;

    /// <summary>The configuration as a <see cref="ConfState"/>.</summary>
    public ConfState ConfState => new()
    {
        Voters = Voters.Incoming.Ids.ToArray(),
        VotersOutgoing = Voters.Outgoing.Ids.ToArray(),
        Learners = Learners.ToArray(),
        LearnersNext = LearnersNext.ToArray(),
        AutoLeave = AutoLeave,
    };

    /// <summary>Whether this is a simple configuration with exactly this one voter.</summary>
    public bool IsSingleton => Voters.Incoming.Count == 1 && !Voters.IsJoint;

    /// <inheritdoc />
    public bool TryAckedIndex(ulong id, out ulong index)
    {
        if (_progress.TryGetValue(id, out var pr))
        {
            index = pr.Match;
            return true;
        }
        index = 0;
        return false;
    }

    /// <summary>The highest index replicated on a quorum of voters.</summary>
    public ulong Committed() => Voters.CommittedIndex(this);

    /// <summary>Whether a quorum of voters was active since the last reset of the flags
    /// (check-quorum, Raft thesis §6.2).</summary>
    public bool QuorumActive()
    {
        var active = new Dictionary<ulong, bool>(_progress.Count);
        foreach (var (id, pr) in _progress)
        {
            if (!pr.IsLearner)
            {
                active[id] = pr.RecentActive;
            }
        }
        return Voters.Tally(active) == VoteResult.Won;
    }

    /// <summary>Forgets the votes of the last election.</summary>
    public void ResetVotes() => _votes.Clear();

    /// <summary>Records <paramref name="id"/>'s vote; only the first vote of a member counts.</summary>
    public void RecordVote(ulong id, bool granted) => _votes.TryAdd(id, granted);

    /// <summary>Counts the recorded votes of voters: granted, rejected and the outcome.</summary>
    public (int Granted, int Rejected, VoteResult Result) TallyVotes()
    {
        int granted = 0, rejected = 0;
        foreach (var (id, pr) in _progress)
        {
            if (pr.IsLearner || !_votes.TryGetValue(id, out var v))
            {
                continue;
            }
            if (v)
            {
                granted++;
            }
            else
            {
                rejected++;
            }
        }
        return (granted, rejected, Voters.Tally(_votes));
    }

    /// <summary>Replaces the configuration and progress map; members already tracked keep their
    /// progress, new ones start probing at <paramref name="nextIndex"/>.</summary>
    internal void SetConfiguration(ConfState cs, ulong nextIndex)
    {
        Voters = new JointConfig(new MajorityConfig(cs.Voters), new MajorityConfig(cs.VotersOutgoing));
        Learners = cs.Learners.Order().ToArray();
        LearnersNext = cs.LearnersNext.Order().ToArray();
        AutoLeave = cs.AutoLeave;
        var members = new SortedSet<ulong>(Voters.Ids);
        members.UnionWith(Learners);
        members.UnionWith(LearnersNext);
        foreach (var id in _progress.Keys.ToArray())
        {
            if (!members.Contains(id))
            {
                _progress.Remove(id);
            }
        }
        foreach (var id in members)
        {
            var isLearner = !Voters.Contains(id);
            if (_progress.TryGetValue(id, out var pr))
            {
                pr.IsLearner = isLearner;
            }
            else
            {
                // A new member starts probing from the end of the leader's log and is treated
                // as recently active so check-quorum does not depose the leader right away.
                _progress[id] = new Progress(0, Math.Max(nextIndex, 1), NewInflights(), isLearner) { RecentActive = true };
            }
        }
        _ids = members.ToArray();
    }

    internal Inflights NewInflights() => new(MaxInflightMsgs, MaxInflightBytes);

    /// <summary>A stable text form of every member's progress, one per line.</summary>
    public string Describe()
    {
        var lines = _ids.Select(id => $"{id}: {_progress[id].Describe()}");
        return string.Join('\n', lines);
    }
}
