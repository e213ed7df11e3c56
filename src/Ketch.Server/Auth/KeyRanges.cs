using Ketch.Api.Authpb;

namespace Ketch.Server.Auth;

/// <summary>
/// Whether permissions cover a key or a range (etcd's unified range permissions): each permission
/// is the key alone (empty range end), <c>[key, end)</c>, or <c>[key, ∞)</c> when the end is
/// <c>\0</c>. A request range is permitted when the merged intervals contain it entirely.
/// </summary>
internal static class KeyRanges
{
    public static bool Covers(IEnumerable<Permission> perms, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd)
    {
        if (rangeEnd.Length == 0)
        {
            foreach (var p in perms)
            {
                if (ContainsKey(p, key))
                {
                    return true;
                }
            }
            return false;
        }
        var open = IsOpen(rangeEnd);
        // Intervals as (start, end); end null = unbounded. A single key k is [k, k\0).
        var intervals = perms
            .Select(p => (Start: p.Key.ToByteArray(), End: p.RangeEnd.Length == 0 ? [.. p.Key.ToByteArray(), 0] : IsOpen(p.RangeEnd.Span) ? null : p.RangeEnd.ToByteArray()))
            .OrderBy(i => i.Start, Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b)))
            .ToList();
        byte[]? curStart = null;
        byte[]? curEnd = null;
        var have = false;
        foreach (var (start, end) in intervals)
        {
            if (have && (curEnd is null || start.AsSpan().SequenceCompareTo(curEnd) <= 0))
            {
                // Overlapping or adjacent: extend.
                if (curEnd is not null && (end is null || end.AsSpan().SequenceCompareTo(curEnd) > 0))
                {
                    curEnd = end;
                }
                continue;
            }
            if (have && Within(curStart!, curEnd, key, rangeEnd, open))
            {
                return true;
            }
            (curStart, curEnd, have) = (start, end, true);
        }
        return have && Within(curStart!, curEnd, key, rangeEnd, open);
    }

    private static bool Within(byte[] start, byte[]? end, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd, bool open) =>
        start.AsSpan().SequenceCompareTo(key) <= 0
        && (end is null || (!open && rangeEnd.SequenceCompareTo(end) <= 0));

    private static bool ContainsKey(Permission p, ReadOnlySpan<byte> key)
    {
        if (p.RangeEnd.Length == 0)
        {
            return p.Key.Span.SequenceEqual(key);
        }
        return p.Key.Span.SequenceCompareTo(key) <= 0 && (IsOpen(p.RangeEnd.Span) || key.SequenceCompareTo(p.RangeEnd.Span) < 0);
    }

    private static bool IsOpen(ReadOnlySpan<byte> end) => end.Length == 1 && end[0] == 0;
}
