namespace Ketch.Raft;

/// <summary>The <see cref="Node"/> was stopped before the request could be handled.</summary>
public sealed class NodeStoppedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public NodeStoppedException() : base("raft: stopped")
    {
    }
}
