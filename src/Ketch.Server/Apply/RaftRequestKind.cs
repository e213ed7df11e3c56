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

    // Auth changes (applied by Auth.AuthStore); numbered apart so other kinds can be added below.
    AuthEnable = 32,
    AuthDisable = 33,
    Authenticate = 34,
    AuthUserAdd = 35,
    AuthUserDelete = 36,
    AuthUserChangePassword = 37,
    AuthUserGrantRole = 38,
    AuthUserRevokeRole = 39,
    AuthRoleAdd = 40,
    AuthRoleDelete = 41,
    AuthRoleGrantPermission = 42,
    AuthRoleRevokePermission = 43,
}
