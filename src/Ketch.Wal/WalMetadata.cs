using Ketch.Raft;

namespace Ketch.Wal;

/// <summary>Who wrote a WAL: recorded at the start of every segment and checked on open.</summary>
/// <param name="MemberId">This member's Raft id.</param>
/// <param name="ClusterId">The cluster's id.</param>
/// <param name="Bootstrap">The configuration the group was created with (the members of a new
/// cluster); the configuration in force later comes from snapshots and conf-change entries.</param>
public sealed record WalMetadata(ulong MemberId, ulong ClusterId, ConfState Bootstrap);
