namespace Ketch.Raft.Quorum;

/// <summary>Looks up the highest log index a member is known to hold.</summary>
public interface IAckedIndexer
{
    /// <summary>The acknowledged index of <paramref name="id"/>, if known.</summary>
    bool TryAckedIndex(ulong id, out ulong index);
}
