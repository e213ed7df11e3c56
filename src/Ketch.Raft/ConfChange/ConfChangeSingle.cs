namespace Ketch.Raft;

/// <summary>One operation of a <see cref="ConfChangeV2"/>.</summary>
/// <param name="Type">What to do.</param>
/// <param name="NodeId">To whom; 0 is ignored.</param>
public sealed record ConfChangeSingle(ConfChangeType Type, ulong NodeId)
{
    /// <summary>A stable text form, e.g. <c>v2</c>, <c>r3</c>, <c>l4</c>, <c>u5</c>.</summary>
    public string Describe() => Type switch
    {
        ConfChangeType.AddNode => "v",
        ConfChangeType.RemoveNode => "r",
        ConfChangeType.UpdateNode => "u",
        ConfChangeType.AddLearnerNode => "l",
        _ => "?",
    } + NodeId;
}
