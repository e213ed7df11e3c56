namespace Ketch.Raft;

/// <summary>
/// The answer to a read-index request: once the local state machine has applied up to
/// <paramref name="Index"/>, a read reflects every write committed before the request was made
/// (linearizable, Raft thesis §6.4). <paramref name="RequestContext"/> is the caller's request id.
/// </summary>
/// <param name="Index">The commit index at the time the leader confirmed its leadership.</param>
/// <param name="RequestContext">The context given to <see cref="RawNode.ReadIndex"/>.</param>
public sealed record ReadState(ulong Index, ReadOnlyMemory<byte> RequestContext)
{
    /// <summary>A stable text form for logs and golden tests.</summary>
    public string Describe()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("Index:").Append(Index).Append(" Context:");
        Describer.AppendData(sb, RequestContext.Span);
        return sb.ToString();
    }
}
