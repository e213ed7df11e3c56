using Ketch.Raft.Encoding;
using Ketch.Raft.Tests.DataDriven;

namespace Ketch.Raft.Tests.Interaction;

/// <summary>Commands for membership changes, leadership transfer and read-index requests, and
/// the readable text form of conf-change entries.</summary>
internal sealed partial class InteractionEnv
{
    /// <summary>
    /// <c>propose-conf-change ID [v1=true] [transition=auto|implicit|explicit] [OPS...]</c>, the
    /// operations as arguments or input lines: <c>v2</c> adds voter 2, <c>r3</c> removes 3,
    /// <c>l4</c> adds learner 4 (or demotes voter 4), <c>u5</c> updates 5. No operations is the
    /// empty change that leaves a joint configuration. <c>v1=true</c> proposes the single
    /// operation as a v1 <see cref="ConfChange"/>.
    /// </summary>
    private void ProposeConfChange(TestCase tc)
    {
        var words = tc.Positional.Where(p => p != Quiet)
            .Concat(tc.Input.Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .ToArray();
        if (words.Length == 0 || !ulong.TryParse(words[0], out var id))
        {
            throw new ArgumentException("propose-conf-change needs a member id first");
        }
        var ops = words.Skip(1).Select(ParseConfChangeSingle).ToArray();
        var transition = tc.Value("transition", "auto") switch
        {
            "auto" => ConfChangeTransition.Auto,
            "implicit" => ConfChangeTransition.JointImplicit,
            "explicit" => ConfChangeTransition.JointExplicit,
            var t => throw new ArgumentException($"unknown transition {t}"),
        };
        var node = Get(id).Node;
        StepResult result;
        if (tc.Bool("v1"))
        {
            if (ops.Length != 1 || transition != ConfChangeTransition.Auto)
            {
                throw new ArgumentException("a v1 conf change has exactly one operation and no transition");
            }
            result = node.ProposeConfChange(new ConfChange(ops[0].Type, ops[0].NodeId));
        }
        else
        {
            result = node.ProposeConfChange(new ConfChangeV2(transition, ops));
        }
        if (result != StepResult.Ok)
        {
            Line($"proposal result: {result}");
        }
    }

    private static ConfChangeSingle ParseConfChangeSingle(string op)
    {
        var type = op.Length > 1 ? op[0] switch
        {
            'v' => ConfChangeType.AddNode,
            'r' => ConfChangeType.RemoveNode,
            'l' => ConfChangeType.AddLearnerNode,
            'u' => ConfChangeType.UpdateNode,
            _ => (ConfChangeType?)null,
        } : null;
        if (type is null || !ulong.TryParse(op.AsSpan(1), out var nodeId))
        {
            throw new FormatException($"'{op}' is not a conf change operation (v2, r3, l4, u5)");
        }
        return new ConfChangeSingle(type.Value, nodeId);
    }

    /// <summary>Applies a committed conf-change entry the way an application does: decode it,
    /// hand it to <see cref="RawNode.ApplyConfChange(ConfChangeV2)"/>, keep the configuration
    /// it returns (printed, and saved with the member's applied state).</summary>
    private void ApplyConfChangeEntry(Member m, Entry e)
    {
        var cc = RaftEncoding.ReadConfChangeEntry(e);
        var cs = m.Node.ApplyConfChange(cc);
        m.ConfState = cs;
        m.ConfIndex = e.Index;
        Line($"{m.Id} applied conf change {e.Index} ({DescribeConfChange(cc)}): {cs.Describe()}");
    }

    /// <summary><c>transfer-leadership from=ID to=ID</c>: the application of member <c>from</c>
    /// asks for leadership to move to <c>to</c> (a follower forwards the request to its leader).</summary>
    private void TransferLeadership(TestCase tc)
    {
        var from = tc.UInt64("from", 0);
        var to = tc.UInt64("to", 0);
        if (from == 0 || to == 0)
        {
            throw new ArgumentException("transfer-leadership needs from=ID and to=ID");
        }
        var result = Get(from).Node.TransferLeadership(to);
        if (result != StepResult.Ok)
        {
            Line($"transfer result: {result}");
        }
    }

    /// <summary><c>read-index ID CTX</c>: the application of member ID asks for a read index,
    /// tagging the request with CTX; the answer is a ReadState in a later Ready.</summary>
    private void ReadIndex(TestCase tc)
    {
        var pos = tc.Positional.Where(p => p != Quiet).ToArray();
        if (pos.Length != 2)
        {
            throw new ArgumentException("read-index needs a member id and a request context");
        }
        var result = Get(ulong.Parse(pos[0])).Node.ReadIndex(System.Text.Encoding.ASCII.GetBytes(pos[1]));
        if (result != StepResult.Ok)
        {
            Line($"read-index result: {result}");
        }
    }

    /// <summary>An entry's text form, with a conf change's payload decoded (<c>v4 r1</c>,
    /// <c>leave-joint</c>) instead of shown as hex.</summary>
    private static string DescribeEntry(Entry e)
    {
        if (e.Type == EntryType.Normal)
        {
            return e.Describe();
        }
        string change;
        try
        {
            change = DescribeConfChange(RaftEncoding.ReadConfChangeEntry(e));
        }
        catch (RaftDecodeException)
        {
            return e.Describe();
        }
        return $"{e.Term}/{e.Index} {Entry.TypeName(e.Type)} {change}";
    }

    private static string DescribeConfChange(ConfChangeV2 cc) => cc.IsLeaveJoint ? "leave-joint" : cc.Describe();

    /// <summary>A message's text form, with the conf-change entries it carries decoded.</summary>
    private static string DescribeMessage(Message msg)
    {
        var text = msg.Describe();
        foreach (var e in msg.Entries.Span)
        {
            if (e.Type != EntryType.Normal)
            {
                text = text.Replace(e.Describe(), DescribeEntry(e), StringComparison.Ordinal);
            }
        }
        return text;
    }
}
