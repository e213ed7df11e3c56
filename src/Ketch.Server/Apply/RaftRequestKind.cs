namespace Ketch.Server.Apply;

/// <summary>What a normal Raft entry carries: the first byte of its data.</summary>
internal enum RaftRequestKind : byte
{
    Put = 1,
    DeleteRange = 2,
    Txn = 3,
    Compaction = 4,
    LeaseGrant = 5,
    LeaseRevoke = 6,
    Alarm = 7,
    LeaseCheckpoint = 8,
    MemberAttributes = 9,
}
