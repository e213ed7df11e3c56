using Ketch.Raft.Storage;
using Ketch.Raft.Tests.DataDriven;

namespace Ketch.Raft.Tests.Interaction;

/// <summary>The application loop: handling Ready, delivering messages, stabilizing.</summary>
internal sealed partial class InteractionEnv
{
    private const int MaxStabilizeRounds = 1000;

    /// <summary>
    /// <c>process-ready ID</c>: hands out one Ready and handles it the way the contract on
    /// <see cref="Ready"/> asks: the immediate messages go on the network, the snapshot, entries
    /// and hard state are persisted, then the after-persist messages leave, then the snapshot and
    /// committed entries are applied, and finally the Ready is advanced.
    /// </summary>
    private void ProcessReady(ulong id)
    {
        var m = Get(id);
        Line($"> {id} handling Ready");
        Indented(() =>
        {
            var rd = m.Node.Ready();
            PrintReady(rd);
            _inFlight.AddRange(rd.Messages);
            if (rd.Snapshot is { } snap)
            {
                var err = m.Storage.ApplySnapshot(snap);
                if (err != StorageError.None)
                {
                    throw new InvalidOperationException($"{id} persisting snapshot {snap.Describe()}: {err}");
                }
            }
            m.Storage.Append(rd.Entries.Span);
            if (rd.HardState is { } hs)
            {
                m.Storage.SetHardState(hs);
            }
            _inFlight.AddRange(rd.MessagesAfterPersist);
            if (rd.Snapshot is { } applied)
            {
                m.Applied = applied.Metadata.Index;
                m.ConfState = applied.Metadata.ConfState;
                m.ConfIndex = applied.Metadata.Index;
            }
            foreach (var e in rd.CommittedEntries.Span)
            {
                Apply(m, e);
            }
            m.Node.Advance();
        });
    }

    private void PrintReady(Ready rd)
    {
        if (rd.IsEmpty)
        {
            Line("<empty Ready>");
            return;
        }
        Line($"Ready MustSync={rd.MustSync.ToString().ToLowerInvariant()}:");
        if (rd.SoftState is { } ss)
        {
            Line(ss.Describe());
        }
        if (rd.HardState is { } hs)
        {
            Line("HardState " + hs.Describe());
        }
        if (rd.Snapshot is { } snap)
        {
            Line("Snapshot " + snap.Describe());
        }
        PrintEntries("Entries:", rd.Entries.Span);
        PrintEntries("CommittedEntries:", rd.CommittedEntries.Span);
        if (rd.ReadStates.Count > 0)
        {
            Line("ReadStates:");
            foreach (var rs in rd.ReadStates)
            {
                Line(rs.Describe());
            }
        }
        PrintMessages("Messages:", rd.Messages);
        PrintMessages("MessagesAfterPersist:", rd.MessagesAfterPersist);
    }

    private void PrintEntries(string title, ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty)
        {
            return;
        }
        Line(title);
        foreach (var e in entries)
        {
            Line(DescribeEntry(e));
        }
    }

    private void PrintMessages(string title, IReadOnlyList<Message> messages)
    {
        if (messages.Count == 0)
        {
            return;
        }
        Line(title);
        foreach (var msg in messages)
        {
            Line(DescribeMessage(msg));
        }
    }

    /// <summary>Applies one committed entry, checking state machine safety: indexes are
    /// applied in order, and no two members ever apply different entries at one index. A
    /// conf-change entry switches the member's configuration.</summary>
    private void Apply(Member m, Entry e)
    {
        if (e.Index != m.Applied + 1)
        {
            throw new InvalidOperationException($"{m.Id} applies entry {e.Describe()} after applied index {m.Applied}");
        }
        if (_appliedEntries.TryGetValue((m.Group, e.Index), out var other))
        {
            if (other.Term != e.Term || !other.Data.Span.SequenceEqual(e.Data.Span))
            {
                throw new InvalidOperationException(
                    $"state machine safety violated: {m.Id} applies {e.Describe()} where another member applied {other.Describe()}");
            }
        }
        else
        {
            _appliedEntries[(m.Group, e.Index)] = e;
        }
        m.Applied = e.Index;
        if (e.Type != EntryType.Normal)
        {
            ApplyConfChangeEntry(m, e);
        }
    }

    /// <summary>
    /// <c>deliver-msgs [drop=(IDs)] [type=MsgX] [ID...]</c>: drops the in-flight messages
    /// addressed to the <c>drop</c> members, then steps the in-flight messages addressed to
    /// each listed member (all members when none are listed), in the order they were sent,
    /// optionally only those of one type. Messages over a cut link are dropped.
    /// </summary>
    private void DeliverMsgs(TestCase tc)
    {
        var drop = tc.Ids("drop");
        if (drop.Count > 0)
        {
            foreach (var msg in _inFlight.Where(x => drop.Contains(x.To)).ToArray())
            {
                _inFlight.Remove(msg);
                Line("dropped: " + DescribeMessage(msg));
            }
        }
        var type = tc.Find("type")?.Values.Single();
        var ids = Ids(tc);
        if (ids.Count == 0 && drop.Count > 0)
        {
            return;
        }
        foreach (var id in ids.Count > 0 ? ids : _members.Select(x => x.Id).ToArray())
        {
            Deliver(id, msg => type is null || msg.Type.Name() == type);
        }
    }

    /// <summary>Steps the in-flight messages for <paramref name="id"/>; returns whether any.</summary>
    private bool Deliver(ulong id, Func<Message, bool> filter)
    {
        var batch = _inFlight.Where(x => x.To == id && filter(x)).ToArray();
        if (batch.Length == 0)
        {
            return false;
        }
        foreach (var msg in batch)
        {
            _inFlight.Remove(msg);
        }
        var m = Get(id);
        Line($"> {id} receiving messages");
        Indented(() =>
        {
            foreach (var msg in batch)
            {
                if (_cut.Contains((msg.From, msg.To)))
                {
                    Line("dropped: " + DescribeMessage(msg));
                    continue;
                }
                Line(DescribeMessage(msg));
                Indented(() =>
                {
                    var result = m.Node.Step(msg);
                    if (result != StepResult.Ok)
                    {
                        Line($"step result: {result}");
                    }
                });
            }
        });
        return true;
    }

    /// <summary>
    /// <c>stabilize [ID...]</c>: until nothing changes, let each member handle its Ready and
    /// then deliver each member's messages (restricted to the listed members, if any:
    /// messages to others stay in flight).
    /// </summary>
    private void Stabilize(IReadOnlyList<ulong> ids)
    {
        for (var round = 0; round < MaxStabilizeRounds; round++)
        {
            var busy = false;
            foreach (var id in ids)
            {
                if (Get(id).Node.HasReady())
                {
                    busy = true;
                    ProcessReady(id);
                }
            }
            foreach (var id in ids)
            {
                busy |= Deliver(id, _ => true);
            }
            if (!busy)
            {
                return;
            }
        }
        throw new InvalidOperationException($"stabilize did not settle within {MaxStabilizeRounds} rounds");
    }
}
