using Ketch.Raft.Tracker;

namespace Ketch.Raft;

/// <summary>A snapshot of a member's state for monitoring and tests.</summary>
public sealed class Status
{
    internal Status()
    {
    }

    /// <summary>This member's id.</summary>
    public ulong Id { get; init; }

    /// <summary>Term, vote and commit index.</summary>
    public HardState HardState { get; init; }

    /// <summary>Leader and role.</summary>
    public SoftState SoftState { get; init; }

    /// <summary>The last applied index.</summary>
    public ulong Applied { get; init; }

    /// <summary>The member leadership is being handed to, or 0.</summary>
    public ulong LeadTransferee { get; init; }

    /// <summary>The configuration.</summary>
    public ConfState Config { get; init; } = ConfState.Empty;

    /// <summary>On the leader: each member's replication progress (a copy, as text); else empty.</summary>
    public IReadOnlyDictionary<ulong, string> Progress { get; init; } = new Dictionary<ulong, string>();

    /// <summary>A stable text form for logs and golden tests.</summary>
    public string Describe()
    {
        var s = $"{Id} {SoftState.Describe()} {HardState.Describe()} Applied:{Applied}";
        foreach (var (id, p) in Progress.OrderBy(kv => kv.Key))
        {
            s += $"\n  {id}: {p}";
        }
        return s;
    }

    internal static IReadOnlyDictionary<ulong, string> DescribeProgress(ProgressTracker trk) =>
        trk.Ids.ToDictionary(id => id, id => trk.Progress[id].Describe());
}
