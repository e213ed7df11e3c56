namespace Ketch.Raft;

/// <summary>
/// A single-operation (v1) membership change: etcd's original form, kept because servers and
/// clients speak it. Internally it is a <see cref="ConfChangeV2"/> with one operation.
/// </summary>
/// <param name="Type">What to do.</param>
/// <param name="NodeId">To whom.</param>
/// <param name="Context">Opaque application data (etcd puts the member's details here).</param>
public sealed record ConfChange(ConfChangeType Type, ulong NodeId, ReadOnlyMemory<byte> Context = default)
{
    /// <summary>The same change as a <see cref="ConfChangeV2"/>.</summary>
    public ConfChangeV2 ToV2() => new(ConfChangeTransition.Auto, [new ConfChangeSingle(Type, NodeId)], Context);
}
