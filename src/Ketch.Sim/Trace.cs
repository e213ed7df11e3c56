using System.Globalization;
using System.Text;
using Ketch.Raft;

namespace Ketch.Sim;

/// <summary>What a <see cref="TraceEvent"/> records.</summary>
internal enum TraceKind : byte
{
    /// <summary>A message entered the network.</summary>
    Send,

    /// <summary>A message reached its destination and was stepped.</summary>
    Deliver,

    /// <summary>A message was lost (the text says why).</summary>
    Drop,

    /// <summary>A message was duplicated.</summary>
    Duplicate,

    /// <summary>A client proposal (A = proposal number, text = outcome).</summary>
    Propose,

    /// <summary>A Ready was handed out (text = summary).</summary>
    Ready,

    /// <summary>Entries were applied (A..B).</summary>
    Apply,

    /// <summary>A member crashed (text = where).</summary>
    Crash,

    /// <summary>A member restarted from its disk.</summary>
    Restart,

    /// <summary>A member froze (text = until when).</summary>
    Pause,

    /// <summary>The network topology changed (text = how).</summary>
    Network,

    /// <summary>A member snapshotted (A) and compacted (B).</summary>
    Snapshot,

    /// <summary>A member changed role or term (text = new state).</summary>
    Role,

    /// <summary>Anything else (text).</summary>
    Note,
}

/// <summary>One simulator event. Cheap to record; formatted only when printed.</summary>
internal readonly record struct TraceEvent(long Step, TraceKind Kind, ulong Member, Message? Message, string? Text, ulong A, ulong B)
{
    /// <summary>The event as one line.</summary>
    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        var head = string.Create(c, $"[{Step,6}] {Member,2} ");
        return Kind switch
        {
            TraceKind.Send => head + "send     " + Message!.Describe() + Suffix(),
            TraceKind.Deliver => head + "deliver  " + Message!.Describe(),
            TraceKind.Drop => head + "drop     " + Message!.Describe() + " (" + Text + ")",
            TraceKind.Duplicate => head + "dup      " + Message!.Describe(),
            TraceKind.Propose => head + string.Create(c, $"propose  p{A}: {Text}"),
            TraceKind.Ready => head + "ready    " + Text,
            TraceKind.Apply => head + string.Create(c, $"apply    [{A}..{B}]"),
            TraceKind.Crash => head + "CRASH    " + Text,
            TraceKind.Restart => head + "RESTART  " + Text,
            TraceKind.Pause => head + "PAUSE    " + Text,
            TraceKind.Network => head + "network  " + Text,
            TraceKind.Snapshot => head + string.Create(c, $"snapshot at {A}, compacted to {B}"),
            TraceKind.Role => head + "role     " + Text,
            _ => head + "note     " + Text,
        };
    }

    private string Suffix() => A == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" (arrives at {A})");
}

/// <summary>The last events of a run (a ring buffer), echoed to a writer in verbose mode.</summary>
internal sealed class Trace
{
    private readonly TraceEvent[] _ring;
    private readonly TextWriter? _verbose;
    private long _count;

    /// <summary>Keeps the last <paramref name="capacity"/> events; writes every event to
    /// <paramref name="verbose"/> when given.</summary>
    public Trace(int capacity, TextWriter? verbose)
    {
        _ring = new TraceEvent[Math.Max(1, capacity)];
        _verbose = verbose;
    }

    /// <summary>Whether events are echoed as they happen.</summary>
    public bool IsVerbose => _verbose is not null;

    /// <summary>Records an event.</summary>
    public void Add(TraceEvent e)
    {
        _ring[_count % _ring.Length] = e;
        _count++;
        _verbose?.WriteLine(e.Describe());
    }

    /// <summary>The last events, oldest first, one per line.</summary>
    public string Tail()
    {
        var sb = new StringBuilder();
        var n = (int)Math.Min(_count, _ring.Length);
        for (var i = _count - n; i < _count; i++)
        {
            sb.AppendLine(_ring[i % _ring.Length].Describe());
        }
        return sb.ToString();
    }
}
