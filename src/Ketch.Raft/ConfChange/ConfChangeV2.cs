namespace Ketch.Raft;

/// <summary>
/// A membership change of any number of operations (Raft thesis §4.3). More than one
/// operation, or an explicit joint transition, goes through joint consensus: first the joint
/// configuration (old and new voters must both agree), then the new one alone. An empty change
/// leaves a joint configuration.
/// </summary>
/// <param name="Transition">How to move to the new configuration.</param>
/// <param name="Changes">The operations, applied in order.</param>
/// <param name="Context">Opaque application data.</param>
public sealed record ConfChangeV2(ConfChangeTransition Transition, IReadOnlyList<ConfChangeSingle> Changes, ReadOnlyMemory<byte> Context = default)
{
    /// <summary>The empty change that leaves a joint configuration.</summary>
    public static ConfChangeV2 LeaveJointChange { get; } = new(ConfChangeTransition.Auto, []);

    /// <summary>Whether this change leaves the joint configuration (it has no operations and
    /// the default transition).</summary>
    public bool IsLeaveJoint => Changes.Count == 0 && Transition == ConfChangeTransition.Auto;

    /// <summary>Whether this change enters a joint configuration (more than one operation, or
    /// an explicit joint transition), and if so whether it is left automatically.</summary>
    public bool EntersJoint(out bool autoLeave)
    {
        if (Transition == ConfChangeTransition.Auto && Changes.Count <= 1)
        {
            autoLeave = false;
            return false;
        }
        autoLeave = Transition != ConfChangeTransition.JointExplicit;
        return true;
    }

    /// <summary>A stable text form, e.g. <c>v2 r3 l4</c> (with the transition when not Auto).</summary>
    public string Describe()
    {
        var ops = string.Join(' ', Changes.Select(c => c.Describe()));
        return Transition == ConfChangeTransition.Auto ? ops : $"{ops} ({Transition})";
    }

    /// <summary>Value equality over the operations.</summary>
    public bool Equals(ConfChangeV2? other) => other is not null && Transition == other.Transition
        && Changes.SequenceEqual(other.Changes) && Context.Span.SequenceEqual(other.Context.Span);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Transition, Changes.Count);
}
