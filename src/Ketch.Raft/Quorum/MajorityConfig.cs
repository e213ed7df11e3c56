namespace Ketch.Raft.Quorum;

/// <summary>A set of voters decided by simple majority (Raft §5.2, §5.3).</summary>
public sealed class MajorityConfig
{
    private readonly ulong[] _ids;

    /// <summary>Creates a configuration of the given voter ids.</summary>
    public MajorityConfig(IEnumerable<ulong> ids) => _ids = ids.Distinct().Order().ToArray();

    /// <summary>The empty configuration: it wins every vote and commits everything, so that a
    /// joint configuration with an empty half behaves like its other half.</summary>
    public static MajorityConfig Empty { get; } = new([]);

    /// <summary>The voter ids, sorted.</summary>
    public IReadOnlyList<ulong> Ids => _ids;

    /// <summary>Number of voters.</summary>
    public int Count => _ids.Length;

    /// <summary>Whether <paramref name="id"/> is a voter.</summary>
    public bool Contains(ulong id) => Array.BinarySearch(_ids, id) >= 0;

    /// <summary>
    /// The largest index acknowledged by a majority: sort the acknowledged indexes and take the
    /// one a majority has reached. Members with no known index count as 0.
    /// </summary>
    public ulong CommittedIndex(IAckedIndexer acked)
    {
        var n = _ids.Length;
        if (n == 0)
        {
            return ulong.MaxValue;
        }
        // Voter sets are small (3, 5, 7): sort on the stack, no allocation per commit check.
        Span<ulong> indexes = n <= 16 ? stackalloc ulong[n] : new ulong[n];
        for (var i = 0; i < n; i++)
        {
            indexes[i] = acked.TryAckedIndex(_ids[i], out var idx) ? idx : 0;
        }
        indexes.Sort();
        // Ascending order: the element at n - quorum is held by at least quorum members.
        return indexes[n - (n / 2 + 1)];
    }

    /// <summary>The election outcome given the votes recorded so far (true = granted).</summary>
    public VoteResult Tally(IReadOnlyDictionary<ulong, bool> votes)
    {
        if (_ids.Length == 0)
        {
            return VoteResult.Won;
        }
        int granted = 0, missing = 0;
        foreach (var id in _ids)
        {
            if (!votes.TryGetValue(id, out var v))
            {
                missing++;
            }
            else if (v)
            {
                granted++;
            }
        }
        var quorum = _ids.Length / 2 + 1;
        if (granted >= quorum)
        {
            return VoteResult.Won;
        }
        return granted + missing >= quorum ? VoteResult.Pending : VoteResult.Lost;
    }

    /// <summary>A stable text form: <c>(1 2 3)</c>.</summary>
    public string Describe() => "(" + string.Join(' ', _ids) + ")";
}
