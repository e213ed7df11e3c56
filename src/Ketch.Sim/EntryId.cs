using Ketch.Raft;

namespace Ketch.Sim;

/// <summary>What identifies an entry's content for the checkers: its term and a hash of its
/// type and payload (payloads are unique per proposal, so equal hashes mean the same entry).</summary>
/// <param name="Term">The entry's term.</param>
/// <param name="Hash">FNV-1a of the type and payload.</param>
internal readonly record struct EntryId(ulong Term, ulong Hash)
{
    /// <summary>The id of <paramref name="e"/>.</summary>
    public static EntryId Of(Entry e) => new(e.Term, HashOf(e.Type, e.Data.Span));

    /// <summary>FNV-1a over the type byte and the payload.</summary>
    public static ulong HashOf(EntryType type, ReadOnlySpan<byte> data)
    {
        var h = 0xcbf29ce484222325UL;
        h = (h ^ (byte)type) * 0x100000001b3UL;
        foreach (var b in data)
        {
            h = (h ^ b) * 0x100000001b3UL;
        }
        return h;
    }

    /// <summary>The hash chain step: the chain after applying entry <paramref name="id"/> at
    /// <paramref name="index"/> on top of <paramref name="chain"/>. Equal chains at an index
    /// mean equal applied histories up to it.</summary>
    public static ulong Chain(ulong chain, ulong index, EntryId id)
    {
        var h = chain ^ 0x9E3779B97F4A7C15UL;
        h = Mix(h ^ index);
        h = Mix(h ^ id.Term);
        h = Mix(h ^ id.Hash);
        return h;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Term}/{Hash:x16}";

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
