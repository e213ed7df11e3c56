using Ketch.Raft.Storage;

namespace Ketch.Raft.Tests.Log;

internal static class LogTestData
{
    public static Entry E(ulong term, ulong index, string data = "") =>
        new(term, index, EntryType.Normal, System.Text.Encoding.ASCII.GetBytes(data));

    /// <summary>Entries at consecutive indexes from <paramref name="first"/> with these terms.</summary>
    public static Entry[] Run(ulong first, params ulong[] terms) =>
        terms.Select((t, i) => E(t, first + (ulong)i)).ToArray();

    public static ulong[] Indexes(ReadOnlyMemory<Entry> entries) => entries.ToArray().Select(e => e.Index).ToArray();

    public static ulong[] Terms(ReadOnlyMemory<Entry> entries) => entries.ToArray().Select(e => e.Term).ToArray();

    /// <summary>A log whose storage holds 1/1 1/2 2/3 and whose unstable tail holds 3/4 3/5.</summary>
    public static RaftLog StableAndUnstable(out MemoryStorage storage)
    {
        storage = MemoryStorage.WithMembers([1]);
        storage.Append(Run(1, 1, 1, 2));
        var log = new RaftLog(storage, long.MaxValue);
        log.Append(Run(4, 3, 3));
        return log;
    }
}
