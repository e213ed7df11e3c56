using Ketch.Raft;
using Ketch.Raft.Storage;

namespace Ketch.Sim;

/// <summary>
/// A materialized copy of (part of) a member's log for the checkers: entry ids for the indexes
/// [<see cref="FirstIndex"/>, <see cref="LastIndex"/>]. Built from the Raft log (durable storage
/// plus the unstable tail) or from a crashed member's disk; tests build them by hand.
/// </summary>
internal sealed class LogView
{
    private readonly EntryId[] _entries;

    /// <summary>A view of entries starting at <paramref name="firstIndex"/>.</summary>
    public LogView(ulong firstIndex, EntryId[] entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        FirstIndex = firstIndex;
        _entries = entries;
    }

    /// <summary>The first index held.</summary>
    public ulong FirstIndex { get; }

    /// <summary>The last index held (FirstIndex - 1 when empty).</summary>
    public ulong LastIndex => FirstIndex + (ulong)_entries.Length - 1;

    /// <summary>Whether the log holds <paramref name="index"/>, and its id.</summary>
    public bool TryGet(ulong index, out EntryId id)
    {
        if (index < FirstIndex || index > LastIndex)
        {
            id = default;
            return false;
        }
        id = _entries[(int)(index - FirstIndex)];
        return true;
    }

    /// <summary>A compact text form of the view, for failure reports.</summary>
    public string Describe()
    {
        var terms = string.Join(",", _entries.Select(e => e.Term));
        return $"[{FirstIndex}..{LastIndex}] terms {terms}";
    }

    /// <summary>The whole log of a running member, as its Raft state machine sees it.</summary>
    internal static LogView Of(RawNode node) => OfRange(node.Raft.Log, node.Raft.Log.FirstIndex(), node.Raft.Log.LastIndex());

    /// <summary>Indexes [<paramref name="lo"/>, <paramref name="hi"/>] of a Raft log (clamped to
    /// what it holds).</summary>
    internal static LogView OfRange(RaftLog log, ulong lo, ulong hi)
    {
        lo = Math.Max(lo, log.FirstIndex());
        hi = Math.Min(hi, log.LastIndex());
        if (hi < lo)
        {
            return new LogView(lo, []);
        }
        var r = log.Slice(lo, hi + 1, long.MaxValue);
        if (!r.IsOk)
        {
            throw new SafetyViolationException(ViolationKind.SimulatorInvariant, $"cannot read log [{lo},{hi}]: {r.Error}");
        }
        return FromEntries(lo, r.Value.Span, hi);
    }

    /// <summary>The entries held on a (crashed member's) disk.</summary>
    internal static LogView Of(MemoryStorage disk)
    {
        var lo = disk.FirstIndex();
        var hi = disk.LastIndex();
        if (hi < lo)
        {
            return new LogView(lo, []);
        }
        var r = disk.Entries(lo, hi + 1, long.MaxValue);
        if (!r.IsOk)
        {
            throw new SafetyViolationException(ViolationKind.SimulatorInvariant, $"cannot read disk [{lo},{hi}]: {r.Error}");
        }
        return FromEntries(lo, r.Value.Span, hi);
    }

    private static LogView FromEntries(ulong lo, ReadOnlySpan<Entry> entries, ulong hi)
    {
        if ((ulong)entries.Length != hi - lo + 1)
        {
            throw new SafetyViolationException(ViolationKind.SimulatorInvariant,
                $"log read [{lo},{hi}] returned {entries.Length} entries");
        }
        var ids = new EntryId[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            if (entries[i].Index != lo + (ulong)i)
            {
                throw new SafetyViolationException(ViolationKind.SimulatorInvariant,
                    $"log read [{lo},{hi}]: entry {i} has index {entries[i].Index}");
            }
            ids[i] = EntryId.Of(entries[i]);
        }
        return new LogView(lo, ids);
    }
}
