namespace Ketch.Raft.Tests.Interaction;

/// <summary>Commands that only look: the log and the role of each member.</summary>
internal sealed partial class InteractionEnv
{
    /// <summary><c>raft-log ID</c>: the member's log as Raft sees it (durable entries, then any
    /// unstable ones, marked), after a line with its bounds and cursors.</summary>
    private void RaftLog(ulong id)
    {
        var m = Get(id);
        var log = m.Raft.Log;
        var first = log.FirstIndex();
        var last = log.LastIndex();
        Line($"log: first={first} last={last} committed={log.Committed} applied={m.Applied}");
        if (last < first)
        {
            return;
        }
        var entries = log.Slice(first, last + 1, LogLimits.NoLimit);
        if (!entries.IsOk)
        {
            throw new InvalidOperationException($"reading log [{first},{last}]: {entries.Error}");
        }
        var unstableFrom = log.Unstable.Count > 0 ? log.Unstable.Offset : ulong.MaxValue;
        foreach (var e in entries.Value.Span)
        {
            Line(e.Index >= unstableFrom ? DescribeEntry(e) + " (unstable)" : DescribeEntry(e));
        }
    }

    /// <summary><c>raft-state</c>: one line per member: role, membership in its own view of the
    /// configuration (voter, learner, or non-member once removed or before it joined), term,
    /// leader, log position and which members it cannot reach.</summary>
    private void RaftState()
    {
        foreach (var m in _members)
        {
            var r = m.Raft;
            var kind = !r.Trk.Progress.ContainsKey(m.Id) ? "Non-member" : r.IsLearner ? "Learner" : "Voter";
            var line = $"{m.Id}: State{r.State} ({kind}) Term:{r.Term} Vote:{r.Vote} Lead:{r.Lead} "
                + $"Last:{r.Log.LastTerm()}/{r.Log.LastIndex()} Commit:{r.Log.Committed} Applied:{m.Applied}";
            var cut = _members.Where(o => o.Id != m.Id && _cut.Contains((m.Id, o.Id))).Select(o => o.Id).ToArray();
            if (cut.Length > 0)
            {
                line += $" cut-from:({string.Join(' ', cut)})";
            }
            Line(line);
        }
    }
}
