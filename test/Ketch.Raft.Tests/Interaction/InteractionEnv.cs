using System.Text;
using Ketch.Raft.Tests.DataDriven;

namespace Ketch.Raft.Tests.Interaction;

/// <summary>
/// A deterministic playground for a group of Raft members driven one step at a time by a
/// script: create members, tick them, propose, hand out and process their Ready (persist,
/// send, apply, advance) and deliver their messages, printing everything in the types'
/// <c>Describe()</c> text forms so that a script reads as a protocol trace. It plays the
/// application and the network; nothing happens that a command did not ask for.
/// </summary>
/// <remarks>
/// Besides printing, it checks state machine safety (Raft §5.4.3) as it goes: every member
/// must apply the same entry at a given index, and apply indexes in order.
/// </remarks>
internal sealed partial class InteractionEnv
{
    /// <summary>A bare argument any command takes: run it but print nothing.</summary>
    private const string Quiet = "quiet";

    private readonly StringBuilder _out = new();
    private readonly List<Member> _members = [];

    // Messages sent and not yet delivered or dropped, in send order.
    private readonly List<Message> _inFlight = [];

    // Links cut by partition/isolate, as (from, to) pairs; messages over them are dropped.
    private readonly HashSet<(ulong From, ulong To)> _cut = [];

    // What was applied at each index of each group's log, by whichever member applied it first.
    private readonly Dictionary<(ulong Group, ulong Index), Entry> _appliedEntries = [];
    private int _indent;

    public InteractionEnv() => Logger = new InteractionLogger(this);

    public InteractionLogger Logger { get; }

    /// <summary>Runs one script command and returns what it printed.</summary>
    public string Handle(TestCase tc)
    {
        _out.Clear();
        _indent = 0;
        try
        {
            Dispatch(tc);
            if (tc.Has(Quiet))
            {
                // Setup steps a script does not want to show: run, print nothing.
                _out.Clear();
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or KeyNotFoundException)
        {
            // Misuse and broken invariants alike become visible output, never silently golden:
            // a script that expects "error:" documents exactly that.
            _indent = 0;
            Line($"error: {e.Message}");
        }
        return _out.ToString();
    }

    private void Dispatch(TestCase tc)
    {
        switch (tc.Cmd)
        {
            case "add-nodes":
                AddNodes(tc);
                break;
            case "restart":
                ForEachId(tc, Restart);
                break;
            case "campaign":
                ForEachId(tc, id => Get(id).Node.Campaign());
                break;
            case "propose":
                Propose(tc);
                break;
            case "tick":
                ForEachId(tc, id => Tick(id, tc.Int32("n", 1)));
                break;
            case "tick-all":
                TickAll(tc.Int32("n", 1));
                break;
            case "tick-election":
                ForEachId(tc, TickElection);
                break;
            case "tick-heartbeat":
                ForEachId(tc, id => Tick(id, Get(id).Config.HeartbeatTicks));
                break;
            case "process-ready":
                ForEachId(tc, ProcessReady);
                break;
            case "deliver-msgs":
                DeliverMsgs(tc);
                break;
            case "stabilize":
                Stabilize(IdsOrAll(tc));
                break;
            case "partition":
                Partition(Ids(tc));
                break;
            case "isolate":
                ForEachId(tc, id => Partition([id]));
                break;
            case "heal":
                Heal();
                break;
            case "report-unreachable":
                ReportUnreachable(tc);
                break;
            case "report-snapshot":
                ReportSnapshot(tc);
                break;
            case "propose-conf-change":
                ProposeConfChange(tc);
                break;
            case "transfer-leadership":
                TransferLeadership(tc);
                break;
            case "read-index":
                ReadIndex(tc);
                break;
            case "compact":
                Compact(tc);
                break;
            case "raft-log":
                ForEachId(tc, RaftLog);
                break;
            case "raft-state":
                RaftState();
                break;
            case "status":
                ForEachId(tc, id => Line(Get(id).Node.Status().Describe()));
                break;
            case "election-timeouts":
                foreach (var m in _members)
                {
                    Line($"{m.Id}: {m.Raft.RandomizedElectionTimeout} ticks");
                }
                break;
            case "log-level":
                LogLevel(tc);
                break;
            default:
                throw new ArgumentException($"unknown command {tc.Cmd}");
        }
    }

    /// <summary>Writes one or more lines at the current indentation.</summary>
    internal void Line(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            _out.Append(' ', 2 * _indent).Append(line).Append('\n');
        }
    }

    private void Indented(Action action)
    {
        _indent++;
        try
        {
            action();
        }
        finally
        {
            _indent--;
        }
    }

    private Member Get(ulong id) =>
        _members.FirstOrDefault(m => m.Id == id) ?? throw new ArgumentException($"no member {id}");

    private static IReadOnlyList<ulong> Ids(TestCase tc) =>
        tc.Positional.Where(p => p != Quiet).Select(p => ulong.TryParse(p, out var id) ? id : throw new FormatException($"{tc.Pos}: '{p}' is not a member id")).ToArray();

    private IReadOnlyList<ulong> IdsOrAll(TestCase tc)
    {
        var ids = Ids(tc);
        return ids.Count > 0 ? ids : _members.Select(m => m.Id).ToArray();
    }

    private static void ForEachId(TestCase tc, Action<ulong> action)
    {
        var ids = Ids(tc);
        if (ids.Count == 0)
        {
            throw new ArgumentException($"{tc.Cmd} needs at least one member id");
        }
        foreach (var id in ids)
        {
            action(id);
        }
    }

    private void LogLevel(TestCase tc)
    {
        var level = tc.Positional.SingleOrDefault() ?? throw new ArgumentException("log-level needs one of debug, info, warn, error, none");
        Logger.MinLevel = level switch
        {
            "debug" => RaftLogLevel.Debug,
            "info" => RaftLogLevel.Info,
            "warn" => RaftLogLevel.Warning,
            "error" => RaftLogLevel.Error,
            "none" => null,
            _ => throw new ArgumentException($"unknown log level {level}"),
        };
    }
}
