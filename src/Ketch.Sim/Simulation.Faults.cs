using System.Globalization;
using Ketch.Raft;

namespace Ketch.Sim;

/// <summary>The environment: faults, the network, clients, snapshots.</summary>
internal sealed partial class Simulation
{
    private SimMember MemberOf(ulong id) => _members[(int)id - 1];

    /// <summary>Partitions (random split, isolated leader, one-way cut), heals, crashes at rest
    /// and restarts, each with its per-step probability. Faults pick among the members in
    /// service (<see cref="_live"/>: all of them when membership does not change).</summary>
    private void InjectFaults()
    {
        if (_faultRng.Chance(_profile.PartitionProbability) && _live.Count > 1)
        {
            _stats.Partitions++;
            string what;
            switch (_faultRng.Next(3))
            {
                case 0:
                    what = RandomSplit();
                    break;
                case 1:
                    var leader = _members.Where(m => m.IsUp && m.Node!.Raft.State == StateType.Leader)
                        .OrderByDescending(m => m.Node!.Raft.Term).FirstOrDefault()
                        ?? _live[_faultRng.Next(_live.Count)];
                    foreach (var other in _members)
                    {
                        _network.Cut(leader.Id, other.Id);
                        _network.Cut(other.Id, leader.Id);
                    }
                    what = string.Create(CultureInfo.InvariantCulture, $"isolate {leader.Id}");
                    break;
                default:
                    var fromAt = _faultRng.Between(1, _live.Count);
                    var toAt = _faultRng.Between(1, _live.Count - 1);
                    toAt = toAt >= fromAt ? toAt + 1 : toAt;
                    var from = _live[fromAt - 1].Id;
                    var to = _live[toAt - 1].Id;
                    _network.Cut(from, to);
                    what = string.Create(CultureInfo.InvariantCulture, $"one-way cut {from}->{to}");
                    break;
            }
            _trace.Add(new TraceEvent(_now, TraceKind.Network, 0, null, what + "; cut: " + _network.DescribeCuts(), 0, 0));
        }
        if (_network.AnyCut && _faultRng.Chance(_profile.HealProbability))
        {
            _network.HealAll();
            _trace.Add(new TraceEvent(_now, TraceKind.Network, 0, null, "heal", 0, 0));
        }
        if (_faultRng.Chance(_profile.CrashProbability))
        {
            var victim = _live[_faultRng.Next(_live.Count)];
            if (victim.IsUp)
            {
                Crash(victim, "at rest");
            }
        }
        if (_faultRng.Chance(_profile.PauseProbability))
        {
            var frozen = _live[_faultRng.Next(_live.Count)];
            if (frozen.IsActive(_now))
            {
                _stats.Pauses++;
                frozen.PausedUntil = _now + _faultRng.Between(1, Math.Max(1, _profile.MaxPauseSteps));
                _trace.Add(new TraceEvent(_now, TraceKind.Pause, frozen.Id, null,
                    string.Create(CultureInfo.InvariantCulture, $"paused until step {frozen.PausedUntil}"), 0, 0));
            }
        }
        foreach (var m in _live)
        {
            if (!m.IsUp && _faultRng.Chance(_profile.RestartProbability))
            {
                Restart(m);
            }
        }
    }

    private string RandomSplit()
    {
        _network.HealAll();
        var side = new bool[_live.Count];
        var first = _faultRng.Next(_live.Count);
        side[first] = true;
        for (var i = 0; i < side.Length; i++)
        {
            if (i != first && _faultRng.Chance(0.4))
            {
                side[i] = true;
            }
        }
        // Keep the other side non-empty.
        if (side.All(s => s))
        {
            side[(first + 1) % side.Length] = false;
        }
        for (var a = 0; a < side.Length; a++)
        {
            for (var b = 0; b < side.Length; b++)
            {
                if (side[a] != side[b])
                {
                    _network.Cut(_live[a].Id, _live[b].Id);
                }
            }
        }
        var left = string.Join(",", Enumerable.Range(0, side.Length).Where(i => side[i]).Select(i => _live[i].Id));
        var right = string.Join(",", Enumerable.Range(0, side.Length).Where(i => !side[i]).Select(i => _live[i].Id));
        return $"split {{{left}}} | {{{right}}}";
    }

    /// <summary>A client proposes a unique payload to a random running member; followers
    /// forward it, and a drop (no leader, transfer, size limit) is a normal outcome.</summary>
    private void MaybePropose()
    {
        if (!_clientRng.Chance(_profile.ProposeProbability))
        {
            return;
        }
        var m = _live[_clientRng.Next(_live.Count)];
        if (!m.IsActive(_now))
        {
            return;
        }
        // Now and then a batch of proposals in one call (one message, one append).
        var count = _clientRng.Chance(0.1) ? _clientRng.Between(2, 4) : 1;
        var payloads = new ReadOnlyMemory<byte>[count];
        for (var i = 0; i < count; i++)
        {
            payloads[i] = StateMachine.Payload(_options.Seed, ++_nextProposal);
        }
        _stats.Proposals += count;
        var result = count == 1 ? m.Node!.Propose(payloads[0]) : m.Node!.Propose(payloads);
        _trace.Add(new TraceEvent(_now, TraceKind.Propose, m.Id, null,
            count == 1 ? result.ToString() : string.Create(CultureInfo.InvariantCulture, $"{result} (batch of {count} up to p{_nextProposal})"),
            (ulong)(_nextProposal - count + 1), 0));
        Observe(m);
    }

    /// <summary>A client asks a random member for a read index (remembering what was committed
    /// anywhere at that moment), and now and then a member asks for leadership to move.</summary>
    private void MaybeReadOrTransfer()
    {
        if (_clientRng.Chance(_profile.ReadProbability))
        {
            var m = _live[_clientRng.Next(_live.Count)];
            if (m.IsActive(_now))
            {
                var n = _reads.Count + 1;
                _reads[n] = (m.Id, _checker.CommittedIndex);
                _stats.Reads++;
                var result = m.Node!.ReadIndex(StateMachine.ReadContext(n));
                _trace.Add(new TraceEvent(_now, TraceKind.Note, m.Id, null,
                    string.Create(CultureInfo.InvariantCulture, $"read r{n} asked (committed anywhere: {_checker.CommittedIndex}): {result}"), 0, 0));
                Observe(m);
            }
        }
        if (_faultRng.Chance(_profile.TransferProbability) && _live.Count > 1)
        {
            var m = _live[_faultRng.Next(_live.Count)];
            var to = _live[_faultRng.Between(1, _live.Count) - 1].Id;
            if (m.IsActive(_now))
            {
                _stats.Transfers++;
                var result = m.Node!.TransferLeadership(to);
                _trace.Add(new TraceEvent(_now, TraceKind.Note, m.Id, null,
                    string.Create(CultureInfo.InvariantCulture, $"transfer leadership to {to}: {result}"), 0, 0));
                Observe(m);
            }
        }
    }

    /// <summary>Puts a message on the wire, or loses it: to a crashed member or across a cut
    /// link (the sender is told: <see cref="RawNode.ReportUnreachable"/>, or a failed
    /// <see cref="RawNode.ReportSnapshot"/>), or at random. Survivors get a delivery step
    /// (small jitter reorders, a long delay now and then) and may be duplicated.</summary>
    private void Send(SimMember from, Message msg)
    {
        _stats.MessagesSent++;
        var to = msg.To;
        // Forwarded requests keep their originator (a proposal or read its requester, a transfer
        // request its transferee); everything else comes from its sender.
        var forwarded = msg.Type is MessageType.Prop or MessageType.ReadIndex or MessageType.TransferLeader;
        if (to < 1 || to > (ulong)_members.Length || to == from.Id || (msg.From != from.Id && !forwarded))
        {
            throw new SafetyViolationException(ViolationKind.SimulatorInvariant, $"member {from.Id} sent a badly addressed message: {msg.Describe()}");
        }
        var dest = MemberOf(to);
        string? lost = null;
        if (!dest.IsUp)
        {
            lost = "destination down";
        }
        else if (_network.IsCut(from.Id, to))
        {
            lost = "partition";
        }
        if (lost is not null)
        {
            Drop(msg, lost);
            if (msg.Type == MessageType.Snap)
            {
                from.PendingReports.Add(new PendingReport(to, SnapshotFailed: true));
            }
            else if (msg.Type is MessageType.App or MessageType.Heartbeat
                && !from.PendingReports.Contains(new PendingReport(to, SnapshotFailed: false)))
            {
                from.PendingReports.Add(new PendingReport(to, SnapshotFailed: false));
            }
            return;
        }
        if (_netRng.Chance(_profile.DropProbability))
        {
            Drop(msg, "lost");
            if (msg.Type == MessageType.Snap)
            {
                // A snapshot goes over a stream whose failure the transport sees.
                from.PendingReports.Add(new PendingReport(to, SnapshotFailed: true));
            }
            return;
        }
        var copies = 1;
        if (_netRng.Chance(_profile.DuplicateProbability))
        {
            copies = 2;
            _stats.MessagesDuplicated++;
        }
        for (var c = 0; c < copies; c++)
        {
            var at = _now + 1;
            if (_netRng.Chance(_profile.ReorderProbability))
            {
                at += _netRng.Between(1, 4);
            }
            if (_netRng.Chance(_profile.DelayProbability))
            {
                at += _netRng.Between(5, Math.Max(5, _profile.MaxDelaySteps));
            }
            _network.Enqueue(new InFlight(msg, from.Id, from.Incarnation), at);
            _trace.Add(new TraceEvent(_now, c == 0 ? TraceKind.Send : TraceKind.Duplicate, from.Id, msg, null, (ulong)at, 0));
        }
    }

    private void Drop(Message msg, string why)
    {
        _stats.MessagesDropped++;
        _trace.Add(new TraceEvent(_now, TraceKind.Drop, msg.To, msg, why, 0, 0));
    }

    /// <summary>Delivers every message due now. A message finding its destination down or its
    /// link cut is lost; a delivered or lost snapshot is reported to its sender (if that
    /// incarnation still runs), as a snapshot transport does.</summary>
    private void Deliver()
    {
        while (_network.TryTakeDue(_now, out var f))
        {
            var msg = f.Message;
            var dest = MemberOf(msg.To);
            var sender = MemberOf(f.Sender);
            var ok = dest.IsUp && !_network.IsCut(f.Sender, msg.To);
            // A member that applied the removal of the sender refuses its messages (as etcd's
            // transport does); the removed member retires soon (MaybeChangeMembership).
            var fromRemoved = ok && _removed.TryGetValue(f.Sender, out var removedAt) && dest.Sm.AppliedIndex >= removedAt;
            ok &= !fromRemoved;
            if (ok && !dest.IsActive(_now))
            {
                // A frozen process: the message waits in its socket buffer until it resumes.
                _network.Enqueue(f, dest.PausedUntil);
                continue;
            }
            if (!ok)
            {
                Drop(msg, fromRemoved ? "sender removed from the cluster" : dest.IsUp ? "partition (in flight)" : "destination down (in flight)");
            }
            else
            {
                _stats.MessagesDelivered++;
                _trace.Add(new TraceEvent(_now, TraceKind.Deliver, msg.To, msg, null, 0, 0));
                dest.Node!.Step(msg);
                Observe(dest);
            }
            if (msg.Type == MessageType.Snap && sender.IsUp && sender.Incarnation == f.SenderIncarnation)
            {
                sender.Node!.ReportSnapshot(msg.To, failed: !ok);
                Observe(sender);
            }
        }
    }

    /// <summary>Members snapshot their state machine at its applied index now and then, and
    /// compact their disk up to it (keeping a few entries, like etcd's catch-up entries), so
    /// lagging members need a snapshot from the leader.</summary>
    private void MaybeSnapshot()
    {
        foreach (var m in _members)
        {
            if (!m.IsActive(_now) || !_faultRng.Chance(_profile.SnapshotProbability))
            {
                continue;
            }
            var index = m.Sm.AppliedIndex;
            if (index <= m.Disk.Snapshot().Value.Metadata.Index)
            {
                continue;
            }
            // The configuration as of the snapshot's index: the state machine's.
            var created = m.Disk.CreateSnapshot(index, m.Sm.Conf, m.Sm.Serialize());
            if (!created.IsOk)
            {
                throw new SafetyViolationException(ViolationKind.SimulatorInvariant, $"member {m.Id} cannot snapshot at {index}: {created.Error}");
            }
            _stats.SnapshotsTaken++;
            var compactTo = index > (ulong)_profile.SnapshotKeepEntries ? index - (ulong)_profile.SnapshotKeepEntries : 0;
            if (compactTo >= m.Disk.FirstIndex())
            {
                m.Disk.Compact(compactTo);
            }
            _trace.Add(new TraceEvent(_now, TraceKind.Snapshot, m.Id, null, null, index, compactTo));
        }
    }
}
