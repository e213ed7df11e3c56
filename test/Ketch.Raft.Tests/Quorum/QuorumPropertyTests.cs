using CsCheck;
using Ketch.Raft.Quorum;
using Xunit;

namespace Ketch.Raft.Tests.Quorum;

/// <summary>
/// MajorityConfig and JointConfig checked against brute-force references: commit indexes by
/// trying every candidate index, election outcomes by enumerating every way the missing
/// votes could still go.
/// </summary>
public sealed class QuorumPropertyTests
{
    private const int Cases = 2000;
    private const int MaxId = 9;

    private sealed class Acked(IReadOnlyDictionary<ulong, ulong> indexes) : IAckedIndexer
    {
        public bool TryAckedIndex(ulong id, out ulong index) => indexes.TryGetValue(id, out index);
    }

    // A voter set: up to 7 distinct ids out of 1..9.
    private static readonly Gen<ulong[]> Voters =
        Gen.ULong[1, MaxId].Array[0, 7].Select(ids => ids.Distinct().Order().ToArray());

    // Acknowledged indexes of some members (the others are unknown, counting as 0).
    private static readonly Gen<Dictionary<ulong, ulong>> AckedIndexes =
        Gen.Select(Gen.ULong[0, 12].Array[MaxId + 1], Gen.Bool.Array[MaxId + 1], (idx, known) =>
            Enumerable.Range(1, MaxId).Where(i => known[i]).ToDictionary(i => (ulong)i, i => idx[i]));

    // Votes of some members: true granted, false rejected, absent not yet answered.
    private static readonly Gen<Dictionary<ulong, bool>> Votes =
        Gen.Int[0, 2].Array[MaxId + 1].Select(v =>
            Enumerable.Range(1, MaxId).Where(i => v[i] != 0).ToDictionary(i => (ulong)i, i => v[i] == 1));

    private static ulong RefCommitted(IReadOnlyList<ulong> voters, IReadOnlyDictionary<ulong, ulong> acked)
    {
        if (voters.Count == 0)
        {
            return ulong.MaxValue;
        }
        ulong Acked(ulong id) => acked.TryGetValue(id, out var i) ? i : 0;
        // The largest candidate index that a majority of voters has reached.
        return voters.Select(Acked).Append(0UL)
            .Where(c => voters.Count(v => Acked(v) >= c) > voters.Count / 2)
            .Max();
    }

    private static bool Wins(IReadOnlyList<ulong> voters, Func<ulong, bool> granted) =>
        voters.Count == 0 || voters.Count(granted) > voters.Count / 2;

    /// <summary>Tally by enumeration: won if every completion of the missing votes wins, lost if
    /// none does, pending otherwise. <paramref name="halves"/> must all win.</summary>
    private static VoteResult RefTally(IReadOnlyDictionary<ulong, bool> votes, params IReadOnlyList<ulong>[] halves)
    {
        var missing = halves.SelectMany(h => h).Distinct().Where(id => !votes.ContainsKey(id)).ToArray();
        bool all = true, any = false;
        for (var mask = 0; mask < 1 << missing.Length; mask++)
        {
            var completed = new Dictionary<ulong, bool>(votes);
            for (var i = 0; i < missing.Length; i++)
            {
                completed[missing[i]] = (mask & (1 << i)) != 0;
            }
            var won = halves.All(h => Wins(h, id => completed[id]));
            all &= won;
            any |= won;
        }
        return all ? VoteResult.Won : any ? VoteResult.Pending : VoteResult.Lost;
    }

    private static string Show(IEnumerable<ulong> ids) => "(" + string.Join(' ', ids) + ")";

    private static string Show<TV>(IReadOnlyDictionary<ulong, TV> map) =>
        "{" + string.Join(", ", map.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}")) + "}";

    [Fact]
    public void MajorityCommittedIndexMatchesBruteForce() =>
        PropertyRuns.ForAll(Gen.Select(Voters, AckedIndexes), Cases,
            t => Assert.Equal(RefCommitted(t.Item1, t.Item2), new MajorityConfig(t.Item1).CommittedIndex(new Acked(t.Item2))),
            t => $"voters {Show(t.Item1)} acked {Show(t.Item2)}");

    [Fact]
    public void JointCommittedIndexMatchesBruteForce() =>
        PropertyRuns.ForAll(Gen.Select(Voters, Voters, AckedIndexes), Cases,
            t =>
            {
                var joint = new JointConfig(new MajorityConfig(t.Item1), new MajorityConfig(t.Item2));
                var expected = Math.Min(RefCommitted(t.Item1, t.Item3), RefCommitted(t.Item2, t.Item3));
                Assert.Equal(expected, joint.CommittedIndex(new Acked(t.Item3)));
            },
            t => $"incoming {Show(t.Item1)} outgoing {Show(t.Item2)} acked {Show(t.Item3)}");

    [Fact]
    public void MajorityTallyMatchesEnumeration() =>
        PropertyRuns.ForAll(Gen.Select(Voters, Votes), Cases,
            t => Assert.Equal(RefTally(t.Item2, t.Item1), new MajorityConfig(t.Item1).Tally(t.Item2)),
            t => $"voters {Show(t.Item1)} votes {Show(t.Item2)}");

    [Fact]
    public void JointTallyMatchesEnumeration() =>
        PropertyRuns.ForAll(Gen.Select(Voters, Voters, Votes), Cases,
            t =>
            {
                var joint = new JointConfig(new MajorityConfig(t.Item1), new MajorityConfig(t.Item2));
                Assert.Equal(RefTally(t.Item3, t.Item1, t.Item2), joint.Tally(t.Item3));
            },
            t => $"incoming {Show(t.Item1)} outgoing {Show(t.Item2)} votes {Show(t.Item3)}");

    [Fact]
    public void JointWithEmptyOutgoingIsItsIncomingHalf()
    {
        var acked = new Acked(new Dictionary<ulong, ulong> { [1] = 5, [2] = 3, [3] = 1 });
        var joint = new JointConfig(new MajorityConfig([1, 2, 3]), MajorityConfig.Empty);
        Assert.False(joint.IsJoint);
        Assert.Equal(3UL, joint.CommittedIndex(acked));
        Assert.Equal(VoteResult.Won, joint.Tally(new Dictionary<ulong, bool> { [1] = true, [3] = true }));
    }
}
