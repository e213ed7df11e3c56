using Ketch.Raft;

namespace Ketch.Sim;

/// <summary>A message on the wire, with the member that put it there (not always
/// <see cref="Message.From"/>: a forwarded proposal keeps its proposer) and that member's
/// incarnation (a snapshot's delivery is reported to the sender only if it has not restarted).</summary>
/// <param name="Message">The message.</param>
/// <param name="Sender">The member that sent it.</param>
/// <param name="SenderIncarnation">The sender's incarnation when it sent it.</param>
internal sealed record InFlight(Message Message, ulong Sender, int SenderIncarnation);

/// <summary>
/// The simulated network: messages in flight, each with its own delivery step (so delays
/// reorder them), and the links that are cut (partitions, possibly one-way). Decisions about
/// loss, duplication and delay are the simulation's; this only holds the state.
/// </summary>
internal sealed class Network
{
    private readonly int _members;
    private readonly bool[] _cut;
    private readonly PriorityQueue<InFlight, (long At, long Seq)> _queue = new();
    private long _seq;
    private int _cutCount;

    /// <summary>A fully connected network of members 1..<paramref name="members"/>.</summary>
    public Network(int members)
    {
        _members = members;
        _cut = new bool[members * members];
    }

    /// <summary>Messages in flight.</summary>
    public int InFlightCount => _queue.Count;

    /// <summary>Whether any link is cut.</summary>
    public bool AnyCut => _cutCount > 0;

    /// <summary>Whether messages from <paramref name="from"/> to <paramref name="to"/> are lost.</summary>
    public bool IsCut(ulong from, ulong to) => from != to && _cut[Slot(from, to)];

    /// <summary>Cuts the link from <paramref name="from"/> to <paramref name="to"/> (one way).</summary>
    public void Cut(ulong from, ulong to)
    {
        if (from != to && !_cut[Slot(from, to)])
        {
            _cut[Slot(from, to)] = true;
            _cutCount++;
        }
    }

    /// <summary>Restores every link.</summary>
    public void HealAll()
    {
        Array.Clear(_cut);
        _cutCount = 0;
    }

    /// <summary>Puts a message on the wire, to arrive at step <paramref name="at"/>.</summary>
    public void Enqueue(InFlight m, long at) => _queue.Enqueue(m, (at, _seq++));

    /// <summary>Takes the next message due at or before <paramref name="now"/>, in order of
    /// arrival time and then of sending.</summary>
    public bool TryTakeDue(long now, out InFlight m)
    {
        if (_queue.TryPeek(out var head, out var prio) && prio.At <= now)
        {
            _queue.Dequeue();
            m = head;
            return true;
        }
        m = null!;
        return false;
    }

    /// <summary>A text form of the cut links, e.g. "1->2 3->1".</summary>
    public string DescribeCuts()
    {
        var parts = new List<string>();
        for (var f = 1; f <= _members; f++)
        {
            for (var t = 1; t <= _members; t++)
            {
                if (f != t && _cut[Slot((ulong)f, (ulong)t)])
                {
                    parts.Add($"{f}->{t}");
                }
            }
        }
        return parts.Count == 0 ? "none" : string.Join(' ', parts);
    }

    private int Slot(ulong from, ulong to) => ((int)from - 1) * _members + ((int)to - 1);
}
