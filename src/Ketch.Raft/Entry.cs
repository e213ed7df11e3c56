using System.Text;

namespace Ketch.Raft;

/// <summary>
/// One record of the replicated log: immutable once built. <see cref="Term"/> and
/// <see cref="Index"/> are assigned by the leader that appends it (Raft §5.3).
/// </summary>
public sealed class Entry
{
    /// <summary>Size in bytes that every entry counts for beyond its payload, in message and
    /// batch size limits: the fixed part of its binary encoding.</summary>
    public const int OverheadBytes = 24;

    /// <summary>Creates an entry.</summary>
    public Entry(ulong term, ulong index, EntryType type, ReadOnlyMemory<byte> data)
    {
        Term = term;
        Index = index;
        Type = type;
        Data = data;
    }

    /// <summary>The term of the leader that appended this entry.</summary>
    public ulong Term { get; }

    /// <summary>The position of this entry in the log, from 1.</summary>
    public ulong Index { get; }

    /// <summary>How to read <see cref="Data"/>.</summary>
    public EntryType Type { get; }

    /// <summary>The payload; empty for the no-op entry a new leader appends.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Bytes this entry counts for in size limits (payload plus fixed overhead).</summary>
    public long SizeBytes => Data.Length + OverheadBytes;

    /// <summary>A stable text form for logs and golden tests: <c>term/index Type data</c>.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append(Term).Append('/').Append(Index).Append(' ').Append(TypeName(Type));
        if (!Data.IsEmpty)
        {
            sb.Append(' ');
            Describer.AppendData(sb, Data.Span);
        }
        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Describe();

    internal static string TypeName(EntryType type) => type switch
    {
        EntryType.Normal => "EntryNormal",
        EntryType.ConfChange => "EntryConfChange",
        EntryType.ConfChangeV2 => "EntryConfChangeV2",
        _ => "EntryType(" + (int)type + ")",
    };
}
