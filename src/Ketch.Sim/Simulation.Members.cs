using System.Globalization;
using System.Text;
using Ketch.Raft;
using Ketch.Raft.Storage;

namespace Ketch.Sim;

/// <summary>The members' lifecycle: start, the Ready loop, crash and restart.</summary>
internal sealed partial class Simulation
{
    /// <summary>Where, inside a Ready, a crash may happen.</summary>
    private enum CrashPoint
    {
        /// <summary>The immediate messages left; nothing of the Ready reached the disk.</summary>
        BeforePersist,

        /// <summary>The Ready is durable; its after-persist messages never left, nothing was applied.</summary>
        AfterPersist,

        /// <summary>Everything was done but Advance.</summary>
        BeforeAdvance,
    }

    private RaftConfig Config(SimMember m) => new()
    {
        Id = m.Id,
        Storage = m.Disk,
        ElectionTicks = _profile.ElectionTicks,
        HeartbeatTicks = _profile.HeartbeatTicks,
        // What the state machine holds after the restart: the disk's snapshot, or (durable
        // state machine) whatever it had applied before the crash, if newer.
        Applied = m.Sm.AppliedIndex,
        MaxSizePerMsgBytes = _profile.MaxSizePerMsgBytes,
        MaxCommittedSizePerReadyBytes = _profile.MaxCommittedSizePerReadyBytes,
        MaxUncommittedEntriesBytes = _profile.MaxUncommittedEntriesBytes,
        MaxInflightMsgs = _profile.MaxInflightMsgs,
        CheckQuorum = _profile.CheckQuorum || _options.PlantedBug == SimPlantedBug.LeaseReadsWithClockFaults,
        ReadOnlyOption = _options.PlantedBug == SimPlantedBug.LeaseReadsWithClockFaults ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
        PreVote = _profile.PreVote,
        RandomSeed = _raftSeed + (ulong)m.Incarnation,
        Logger = _trace.IsVerbose ? new TraceRaftLogger(_trace, () => _now, m.Id) : NullRaftLogger.Instance,
        PlantedBug = _options.PlantedBug switch
        {
            SimPlantedBug.CommitOldTermEntries => PlantedBug.CommitOldTermEntries,
            SimPlantedBug.DoubleVote => PlantedBug.DoubleVote,
            SimPlantedBug.JointCommitIgnoresOutgoing => PlantedBug.JointCommitIgnoresOutgoing,
            SimPlantedBug.ReadIndexWithoutQuorum => PlantedBug.ReadIndexWithoutQuorum,
            _ => PlantedBug.None,
        },
    };

    /// <summary>(Re)starts a member from its disk: a new RawNode over the surviving storage. An
    /// in-memory state machine is rebuilt from the snapshot there (Applied = its index) and Raft
    /// hands out the committed entries after it again; a durable one (seed-chosen) keeps what it
    /// had applied (Applied = that index) unless the disk's snapshot is newer.</summary>
    private void Start(SimMember m)
    {
        var snapshot = m.Disk.Snapshot().Value;
        if (!_profile.DurableStateMachine || m.Sm.AppliedIndex < snapshot.Metadata.Index)
        {
            m.Sm = new StateMachine();
            m.Sm.Restore(snapshot);
            _checker.ObserveSnapshot(m.Id, snapshot.Metadata.Index, m.Sm.Chain);
            _checker.CheckSnapshotConfig(m.Id, snapshot.Metadata.Index, snapshot.Metadata.ConfState);
        }
        else
        {
            m.Sm.Conf ??= snapshot.Metadata.ConfState;
            if (m.Sm.AppliedIndex > snapshot.Metadata.Index && !m.Sm.Conf.Equals(snapshot.Metadata.ConfState))
            {
                // Raft takes its configuration from the disk's snapshot, but this durable state
                // machine applied configuration changes past it: the application first writes
                // its state (with the configuration it recorded) into a snapshot on the disk.
                var created = m.Disk.CreateSnapshot(m.Sm.AppliedIndex, m.Sm.Conf, m.Sm.Serialize());
                if (!created.IsOk)
                {
                    throw new SafetyViolationException(ViolationKind.SimulatorInvariant,
                        $"member {m.Id} cannot snapshot its durable state machine at {m.Sm.AppliedIndex}: {created.Error}");
                }
                _trace.Add(new TraceEvent(_now, TraceKind.Snapshot, m.Id, null, "durable state machine's configuration, before restarting", m.Sm.AppliedIndex, 0));
            }
        }
        m.PendingReports.Clear();
        m.PausedUntil = 0;
        m.Node = new RawNode(Config(m));
        _checker.CheckMemberConfig(m.Id, m.Sm.AppliedIndex, m.Node.Raft.Trk.ConfState);
        m.LastState = m.Node.Raft.State;
        m.LastTerm = m.Node.Raft.Term;
        _checker.ObserveRestart(m.Id, m.Node.Raft.Log.Committed);
        Observe(m);
    }

    private void Restart(SimMember m)
    {
        m.Incarnation++;
        var hs = m.Disk.InitialState().HardState;
        _trace.Add(new TraceEvent(_now, TraceKind.Restart, m.Id, null, string.Create(CultureInfo.InvariantCulture,
            $"incarnation {m.Incarnation} from disk: {hs.Describe()} snapshot {m.Disk.Snapshot().Value.Metadata.Index} log [{m.Disk.FirstIndex()}..{m.Disk.LastIndex()}] state machine at {m.Sm.AppliedIndex}"), 0, 0));
        Start(m);
    }

    private void Crash(SimMember m, string where)
    {
        _stats.Crashes++;
        _trace.Add(new TraceEvent(_now, TraceKind.Crash, m.Id, null, where, 0, 0));
        m.Node = null;
        m.PendingReports.Clear();
        if (!_profile.DurableStateMachine)
        {
            m.Sm = new StateMachine();
        }
    }

    private bool CrashesInReady(SimMember m, CrashPoint point)
    {
        if (!_crashInReady.HasValue || _crashInReady.Value != point)
        {
            return false;
        }
        _stats.CrashesInReady++;
        Crash(m, "inside a Ready: " + point);
        return true;
    }

    /// <summary>
    /// Handles every Ready the member has, honouring the contract of <see cref="Ready"/>:
    /// send <see cref="Ready.Messages"/> at once; persist snapshot, entries and hard state; only
    /// then send <see cref="Ready.MessagesAfterPersist"/>; apply the snapshot and the committed
    /// entries; Advance. A crash may cut this short at any of those points.
    /// </summary>
    private void HandleReadies(SimMember m)
    {
        for (var guard = 0; m.IsUp && m.Node!.HasReady(); guard++)
        {
            if (guard > 1000)
            {
                throw new SafetyViolationException(ViolationKind.SimulatorInvariant, $"member {m.Id} keeps handing out Readys");
            }
            var node = m.Node;
            var rd = node.Ready();
            _crashInReady = _faultRng.Chance(_profile.CrashInReadyProbability)
                ? (CrashPoint)_faultRng.Next(3)
                : null;
            _trace.Add(new TraceEvent(_now, TraceKind.Ready, m.Id, null, DescribeReady(rd), 0, 0));

            foreach (var msg in rd.Messages)
            {
                Send(m, msg);
            }
            var early = _options.PlantedBug == SimPlantedBug.SendBeforePersist;
            if (early)
            {
                foreach (var msg in rd.MessagesAfterPersist)
                {
                    Send(m, msg);
                }
            }
            if (CrashesInReady(m, CrashPoint.BeforePersist))
            {
                return;
            }
            Persist(m, rd);
            if (CrashesInReady(m, CrashPoint.AfterPersist))
            {
                return;
            }
            foreach (var msg in early ? [] : rd.MessagesAfterPersist)
            {
                Send(m, msg);
            }
            Apply(m, rd);
            CheckReadStates(m, rd);
            if (CrashesInReady(m, CrashPoint.BeforeAdvance))
            {
                return;
            }
            node.Advance();
            foreach (var r in m.PendingReports)
            {
                if (r.SnapshotFailed)
                {
                    node.ReportSnapshot(r.To, failed: true);
                }
                else
                {
                    node.ReportUnreachable(r.To);
                }
            }
            m.PendingReports.Clear();
            Observe(m);
        }
    }

    /// <summary>Writes the Ready to the member's disk: snapshot, then entries, then hard state
    /// (atomically, like one WAL batch with fsync). Feeds the incremental log matching check.</summary>
    private void Persist(SimMember m, Ready rd)
    {
        var disk = m.Disk;
        if (rd.Snapshot is { } snap)
        {
            if (disk.Snapshot().Value.IsEmpty && disk.LastIndex() == 0)
            {
                _stats.NewcomerSnapshots++;
            }
            var err = disk.ApplySnapshot(snap);
            if (err != StorageError.None)
            {
                throw new SafetyViolationException(ViolationKind.SimulatorInvariant,
                    $"member {m.Id} was handed snapshot {snap.Describe()} but its disk refuses it: {err}");
            }
            _stats.SnapshotsInstalled++;
        }
        var entries = rd.Entries.Span;
        if (!entries.IsEmpty)
        {
            disk.Append(entries);
            var firstHeld = disk.FirstIndex();
            for (var i = 0; i < entries.Length; i++)
            {
                var e = entries[i];
                if (e.Index < firstHeld)
                {
                    continue;
                }
                ulong? prevTerm = i > 0 ? entries[i - 1].Term : disk.Term(e.Index - 1) is { IsOk: true } t ? t.Value : null;
                _checker.ObserveAppend(m.Id, e.Index, EntryId.Of(e), prevTerm);
            }
        }
        if (rd.HardState is { } hs)
        {
            _checker.ObservePersistedHardState(m.Id, hs);
            disk.SetHardState(hs);
        }
    }

    /// <summary>Applies the Ready's snapshot, then its committed entries, feeding (d).</summary>
    private void Apply(SimMember m, Ready rd)
    {
        if (rd.Snapshot is { } snap)
        {
            m.Sm.Restore(snap);
            _checker.ObserveSnapshot(m.Id, snap.Metadata.Index, m.Sm.Chain);
            _checker.CheckSnapshotConfig(m.Id, snap.Metadata.Index, snap.Metadata.ConfState);
        }
        var committed = rd.CommittedEntries.Span;
        if (committed.IsEmpty)
        {
            if (rd.Snapshot is not null)
            {
                _checker.CheckMemberConfig(m.Id, m.Sm.AppliedIndex, m.Node!.Raft.Trk.ConfState);
            }
            return;
        }
        foreach (var e in committed)
        {
            var before = _checker.AppliedIndex;
            var id = m.Sm.Apply(e);
            _checker.ObserveApply(m.Id, e.Index, id, m.Sm.Chain);
            if (e.Type is EntryType.ConfChange or EntryType.ConfChangeV2)
            {
                ApplyConfChange(m, e, first: _checker.AppliedIndex > before);
            }
            else if (StateMachine.TryParseProposal(e.Data.Span, out var p))
            {
                _acked.Add(p);
            }
        }
        _trace.Add(new TraceEvent(_now, TraceKind.Apply, m.Id, null, null, committed[0].Index, committed[^1].Index));
        _checker.CheckMemberConfig(m.Id, m.Sm.AppliedIndex, m.Node!.Raft.Trk.ConfState);
    }

    /// <summary>Every answered read index must cover what was committed when it was asked.</summary>
    private void CheckReadStates(SimMember m, Ready rd)
    {
        foreach (var rs in rd.ReadStates)
        {
            if (!StateMachine.TryParseRead(rs.RequestContext.Span, out var n) || !_reads.TryGetValue(n, out var read))
            {
                throw new SafetyViolationException(ViolationKind.SimulatorInvariant,
                    $"member {m.Id} got a read state for an unknown request: {rs.Describe()}");
            }
            if (read.Member != m.Id)
            {
                throw new SafetyViolationException(ViolationKind.Linearizability,
                    $"member {m.Id} got the answer to read r{n}, which member {read.Member} asked");
            }
            _stats.ReadsAnswered++;
            _trace.Add(new TraceEvent(_now, TraceKind.Note, m.Id, null,
                string.Create(CultureInfo.InvariantCulture, $"read r{n} answered: index {rs.Index} (committed at issue {read.CommittedAtIssue})"), 0, 0));
            SafetyChecker.CheckReadIndex(m.Id, n, rs.Index, read.CommittedAtIssue);
        }
    }

    private static string DescribeReady(Ready rd)
    {
        var sb = new StringBuilder();
        if (rd.SoftState is { } ss)
        {
            sb.Append(ss.Describe()).Append(' ');
        }
        if (rd.HardState is { } hs)
        {
            sb.Append("HS[").Append(hs.Describe()).Append("] ");
        }
        if (rd.Snapshot is { } snap)
        {
            sb.Append("Snap[").Append(snap.Describe()).Append("] ");
        }
        var e = rd.Entries.Span;
        if (!e.IsEmpty)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Entries[{e[0].Term}/{e[0].Index}..{e[^1].Term}/{e[^1].Index}] ");
        }
        var c = rd.CommittedEntries.Span;
        if (!c.IsEmpty)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Committed[{c[0].Index}..{c[^1].Index}] ");
        }
        if (rd.ReadStates.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"ReadStates {rd.ReadStates.Count} ");
        }
        sb.Append(CultureInfo.InvariantCulture, $"msgs {rd.Messages.Count}+{rd.MessagesAfterPersist.Count}");
        return sb.ToString();
    }
}
