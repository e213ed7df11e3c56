using Ketch.Raft;
using Ketch.Raft.Encoding;
using Ketch.Wal;
using Microsoft.Extensions.Logging;

namespace Ketch.Server.Member;

/// <summary>
/// etcd's <c>--force-new-cluster</c>, for a member whose cluster lost its quorum for good: at
/// start, the entries this member has that were never committed are dropped, and removals of
/// every other member are appended to its log as committed entries (in the last term it knows),
/// so that applying them leaves a one-member cluster of this member with all the data it had
/// committed. Nothing uncommitted survives, as Raft could not have acknowledged it. The other
/// members must not be started again on their old data: they would not accept the new cluster
/// (they were removed) and are to be added back as new members.
/// </summary>
internal static class ForceNewCluster
{
    /// <exception cref="ArgumentException">This member is not a voter of the committed configuration.</exception>
    public static void Rewrite(WalStorage storage, ulong self, ILogger log)
    {
        var (hard, conf) = storage.InitialState();
        // The configuration at the commit index: the snapshot's, then every committed change after it.
        var voters = new HashSet<ulong>(conf.Voters.Concat(conf.VotersOutgoing));
        var learners = new HashSet<ulong>(conf.Learners.Concat(conf.LearnersNext));
        var first = storage.FirstIndex();
        if (hard.Commit >= first)
        {
            var entries = storage.Entries(first, hard.Commit + 1, long.MaxValue).Value;
            foreach (var entry in entries.Span)
            {
                if (entry.Type is not (EntryType.ConfChange or EntryType.ConfChangeV2))
                {
                    continue;
                }
                foreach (var change in RaftEncoding.ReadConfChangeEntry(entry).Changes)
                {
                    switch (change.Type)
                    {
                        case ConfChangeType.AddNode:
                            voters.Add(change.NodeId);
                            learners.Remove(change.NodeId);
                            break;
                        case ConfChangeType.AddLearnerNode:
                            learners.Add(change.NodeId);
                            voters.Remove(change.NodeId);
                            break;
                        case ConfChangeType.RemoveNode:
                            voters.Remove(change.NodeId);
                            learners.Remove(change.NodeId);
                            break;
                    }
                }
            }
        }
        if (!voters.Contains(self))
        {
            throw new ArgumentException($"--force-new-cluster: member {self:x} is not a voter of its last committed configuration");
        }
        var others = voters.Concat(learners).Where(id => id != self).Order().ToList();
        var removals = new Entry[others.Count];
        for (var i = 0; i < others.Count; i++)
        {
            removals[i] = new Entry(hard.Term, hard.Commit + 1 + (ulong)i, EntryType.ConfChange,
                RaftEncoding.Encode(new ConfChange(ConfChangeType.RemoveNode, others[i])));
        }
        var dropped = storage.LastIndex() - hard.Commit;
        // Appending at commit + 1 replaces whatever uncommitted tail the log had.
        storage.SaveAsync(hard with { Commit = hard.Commit + (ulong)others.Count }, removals, null, mustSync: true).GetAwaiter().GetResult();
        LogForced(log, self, others.Count, dropped, hard.Commit);
    }

    private static void LogForced(ILogger log, ulong self, int removed, ulong dropped, ulong commit) =>
        log.LogWarning("--force-new-cluster: member {Self:x} starts a one-member cluster from its log committed up to {Commit}: {Removed} other members removed, {Dropped} uncommitted entries dropped",
            self, commit, removed, dropped);
}
