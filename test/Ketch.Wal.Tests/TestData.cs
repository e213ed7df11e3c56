using Ketch.Raft;

namespace Ketch.Wal.Tests;

internal static class TestData
{
    public static WalMetadata Metadata(ulong member = 1, ulong cluster = 0xc1) => new(member, cluster, ConfState.Of([member]));

    /// <summary>Entries [from, from+count) of term <paramref name="term"/> with random payloads of <paramref name="size"/> bytes.</summary>
    public static Entry[] Entries(ulong from, int count, ulong term, int size, Random rng)
    {
        var result = new Entry[count];
        for (var i = 0; i < count; i++)
        {
            var data = new byte[size];
            rng.NextBytes(data);
            result[i] = new Entry(term, from + (ulong)i, EntryType.Normal, data);
        }
        return result;
    }

    public static void AssertSameEntries(IReadOnlyList<Entry> expected, IReadOnlyList<Entry> actual)
    {
        Xunit.Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Xunit.Assert.Equal(expected[i].Index, actual[i].Index);
            Xunit.Assert.Equal(expected[i].Term, actual[i].Term);
            Xunit.Assert.Equal(expected[i].Type, actual[i].Type);
            Xunit.Assert.True(expected[i].Data.Span.SequenceEqual(actual[i].Data.Span), $"data of entry {expected[i].Index} differs");
        }
    }
}
