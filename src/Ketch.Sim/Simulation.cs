using System.Globalization;
using Ketch.Raft;

namespace Ketch.Sim;

/// <summary>
/// One seeded run of a whole cluster: production <see cref="RawNode"/>s, each with a
/// <see cref="Ketch.Raft.Storage.MemoryStorage"/> as its disk, wired through a faulty
/// <see cref="Network"/>, with crashes, restarts, snapshots and compaction, and the
/// <see cref="SafetyChecker"/> fed after every step of every member. Single-threaded and
/// deterministic: the seed (with the member count, step count and planted bug) fixes the run.
/// </summary>
internal sealed partial class Simulation
{
    private readonly SimOptions _options;
    private readonly SimRandom _faultRng;
    private readonly SimRandom _netRng;
    private readonly SimRandom _clientRng;
    private readonly ulong _raftSeed;
    private readonly SimMember[] _members;
    private readonly Network _network;
    private readonly SafetyChecker _checker = new();
    private readonly Trace _trace;
    private readonly HashSet<int> _acked = [];
    private readonly SimStats _stats = new();
    private readonly double[] _tickRates;

    // Read requests by number: who asked, and the highest index committed anywhere when it did.
    private readonly Dictionary<int, (ulong Member, ulong CommittedAtIssue)> _reads = [];
    private readonly SimRandom _memberRng;
    private FaultProfile _profile;

    // The members of the final configuration, once converged.
    private List<SimMember> _final = [];
    private long _now;
    private int _nextProposal;

    // Where the Ready being handled will be cut short by a crash, if it will.
    private CrashPoint? _crashInReady;

    private Simulation(SimOptions options)
    {
        _options = options;
        var root = new SimRandom(options.Seed);
        // The profile comes from its own stream so the same seed means the same profile
        // whatever the member count.
        var drawn = options.Harsh ? FaultProfile.Harsh(root.Fork()) : FaultProfile.FromSeed(root.Fork());
        _profile = options.Profile ?? drawn;
        _faultRng = root.Fork();
        _netRng = root.Fork();
        _clientRng = root.Fork();
        _raftSeed = root.NextUInt64();
        // Forked last, so runs without membership changes are what they were before.
        _memberRng = root.Fork();
        // With membership changes, a pool of ids beyond the founders, for servers that join.
        var pool = options.Membership ? options.Members + ExtraMemberIds : options.Members;
        _network = new Network(pool);
        _trace = new Trace(options.TraceEvents, options.Verbose);
        var voters = Enumerable.Range(1, options.Members).Select(i => (ulong)i).ToArray();
        _members = Enumerable.Range(1, pool).Select(i => new SimMember((ulong)i, i <= options.Members ? voters : null)).ToArray();
        _live = [.. _members.Where(m => m.Status == MemberStatus.InService)];
        // Clocks drift: each member's chance of ticking in a step is its own.
        _tickRates = _members.Select(_ => _faultRng.Uniform(_profile.TickProbability, 1.0)).ToArray();
        _clusterConf = ConfState.Of(voters);
        _checker.RecordConfig(0, _clusterConf);
        foreach (var id in voters)
        {
            _firstNamed[id] = 0;
        }
        if (options.Membership)
        {
            _profile = _profile with { ConfChangeProbability = _memberRng.Uniform(0.005, 0.03) };
        }
    }

    /// <summary>Runs one simulation and reports what happened; never throws for a violation.</summary>
    public static SimResult Run(SimOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Members < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "at least one member");
        }
        return new Simulation(options).Run();
    }

    private SimResult Run()
    {
        var profile = _profile;
        try
        {
            foreach (var m in _live)
            {
                Start(m);
            }
            for (var i = 0; i < _options.Steps; i++)
            {
                Step();
            }
            Liveness();
            return Result(null, "", profile);
        }
        catch (SafetyViolationException e)
        {
            return Result(e.Kind, e.Message, profile);
        }
#pragma warning disable CA1031 // Any exception out of the core is a finding, reported with the seed.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Result(ViolationKind.RaftPanic, e.ToString(), profile);
        }
    }

    private SimResult Result(ViolationKind? kind, string message, FaultProfile? profile = null)
    {
        _stats.LeaderTerms = _checker.LeaderTerms;
        _stats.AppliedIndex = _checker.AppliedIndex;
        _stats.Acknowledged = _acked.Count;
        return new SimResult
        {
            Options = _options,
            Profile = profile ?? _profile,
            Violation = kind,
            Message = message,
            Step = _now,
            TraceTail = kind is null ? "" : _trace.Tail(),
            Stats = _stats,
        };
    }

    /// <summary>One step of simulated time: faults, clocks, a client, the network, then every
    /// member's Ready loop, then snapshots; the checkers run inside each of these.</summary>
    private void Step()
    {
        InjectFaults();
        foreach (var m in _members)
        {
            var rate = _profile.TickProbability >= 1.0 ? 1.0 : _tickRates[m.Id - 1];
            if (m.IsActive(_now) && _faultRng.Chance(rate))
            {
                m.Node!.Tick();
                Observe(m);
            }
        }
        MaybePropose();
        MaybeReadOrTransfer();
        MaybeChangeMembership();
        Deliver();
        foreach (var m in _members)
        {
            if (m.IsActive(_now))
            {
                HandleReadies(m);
            }
        }
        MaybeSnapshot();
        if (_now % _options.FullCheckEverySteps == 0)
        {
            CheckAllLogs();
        }
        _now++;
    }

    /// <summary>
    /// (f) Liveness: heal every link, restart every member, stop all faults, and give the
    /// cluster a bounded number of steps to converge: one leader whose whole log is committed,
    /// every member applied up to it, and every acknowledged proposal applied everywhere.
    /// </summary>
    private void Liveness()
    {
        _profile = _profile.Calm();
        _network.HealAll();
        _trace.Add(new TraceEvent(_now, TraceKind.Network, 0, null, "liveness phase: healed, faults off", 0, 0));
        foreach (var m in _live)
        {
            m.PausedUntil = 0;
            if (!m.IsUp)
            {
                Restart(m);
            }
        }
        for (var i = 0; i < _options.LivenessBudgetSteps; i++)
        {
            Step();
            if (Converged())
            {
                _stats.ConvergenceSteps = i + 1;
                CheckAllLogs();
                CheckAcknowledgedEverywhere();
                return;
            }
        }
        var states = string.Join("\n  ", _live.Select(m => m.Node is null ? $"{m.Id} down" : m.Node.Status().Describe()));
        throw new SafetyViolationException(ViolationKind.Liveness,
            $"no convergence within {_options.LivenessBudgetSteps} steps after healing; in flight {_network.InFlightCount}\n  {states}");
    }

    private bool Converged()
    {
        SimMember? leader = null;
        foreach (var m in _members)
        {
            if (m.Node is { } node && node.Raft.State == StateType.Leader && (leader is null || node.Raft.Term > leader.Node!.Raft.Term))
            {
                leader = m;
            }
        }
        if (leader is null)
        {
            return false;
        }
        var log = leader.Node!.Raft.Log;
        var commit = log.Committed;
        if (commit != log.LastIndex() || log.Applied != commit)
        {
            return false;
        }
        // The final configuration's members (everyone, without membership changes); a joint
        // configuration is not final: it must be left.
        var conf = leader.Node.Raft.Trk.ConfState;
        if (conf.VotersOutgoing.Count > 0)
        {
            return false;
        }
        var final = _members.Where(m => conf.Voters.Contains(m.Id) || conf.Learners.Contains(m.Id)).ToList();
        foreach (var m in final)
        {
            if (m.Node is null)
            {
                return false;
            }
            var raft = m.Node.Raft;
            // Followers may keep a stale uncommitted tail past the leader's last index until
            // the leader appends over it, which needs no new proposal to be safe: not required.
            if (raft.Log.Committed != commit || m.Sm.AppliedIndex != commit)
            {
                return false;
            }
        }
        _final = final;
        return true;
    }

    private void CheckAcknowledgedEverywhere() =>
        SafetyChecker.CheckAcknowledgedApplied(_acked, _final.Select(m => (m.Id, m.Sm.AppliedIndex, m.Sm.Proposals)).ToList());

    /// <summary>(b) The pairwise log matching check over every member's log: the Raft log of
    /// running members, the disk of crashed ones.</summary>
    private void CheckAllLogs()
    {
        var logs = new List<(ulong, LogView)>(_members.Length);
        foreach (var m in _members)
        {
            logs.Add((m.Id, m.IsUp ? LogView.Of(m.Node!) : LogView.Of(m.Disk)));
        }
        SafetyChecker.CheckLogMatching(logs);
    }

    /// <summary>
    /// Runs the per-interaction checks on <paramref name="m"/> right after it stepped, ticked,
    /// proposed or advanced: (a) election safety and, for a new leader, (c) leader
    /// completeness; (e) commit monotonicity; and records newly committed entries.
    /// </summary>
    private void Observe(SimMember m)
    {
        var raft = m.Node!.Raft;
        var state = raft.State;
        var term = raft.Term;
        if (state != m.LastState || term != m.LastTerm)
        {
            m.LastState = state;
            m.LastTerm = term;
            _trace.Add(new TraceEvent(_now, TraceKind.Role, m.Id, null,
                string.Create(CultureInfo.InvariantCulture, $"{state} term {term} lead {raft.Lead} last {raft.Log.LastIndex()}/{raft.Log.LastTerm()} commit {raft.Log.Committed}"), 0, 0));
        }
        if (state == StateType.Leader)
        {
            if (_checker.ObserveLeader(m.Id, term))
            {
                _checker.CheckLeaderCompleteness(m.Id, term, LogView.Of(m.Node));
            }
            SafetyChecker.CheckLeaderIsVoter(m.Id, term, m.Sm.AppliedIndex, _checker.ConfigAt(m.Sm.AppliedIndex));
        }
        var commit = raft.Log.Committed;
        var previous = _checker.ObserveCommitIndex(m.Id, m.Incarnation, commit);
        if (commit > previous)
        {
            if (state == StateType.Leader)
            {
                CheckCommitQuorum(m, term, previous, commit);
            }
            _checker.ObserveCommitted(m.Id, term, commit, previous, LogView.OfRange(raft.Log, previous + 1, commit));
        }
    }
}
