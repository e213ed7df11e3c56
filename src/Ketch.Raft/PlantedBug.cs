namespace Ketch.Raft;

/// <summary>
/// TEST-ONLY HOOK. Known bugs the simulator (src/Ketch.Sim) can plant in this core, through
/// the internal <see cref="RaftConfig.PlantedBug"/>, to prove its checkers catch them. Always
/// <see cref="None"/> outside the simulator's own tests: nothing public can set it.
/// </summary>
internal enum PlantedBug : byte
{
    /// <summary>The production algorithm.</summary>
    None = 0,

    /// <summary>The leader commits an entry of an earlier term by counting its replicas, which
    /// Raft §5.4.2 forbids (figure 8): the entry can still be overwritten.</summary>
    CommitOldTermEntries = 1,

    /// <summary>A member grants its vote even after voting for another candidate in the same
    /// term (breaks Raft §5.2: one vote per term), allowing two leaders in one term.</summary>
    DoubleVote = 2,

    /// <summary>In a joint configuration the leader commits with a majority of the incoming
    /// voters alone, ignoring the outgoing half (breaks joint consensus, thesis §4.3: both
    /// majorities must agree, or the old configuration can still decide on its own).</summary>
    JointCommitIgnoresOutgoing = 3,

    /// <summary>The leader answers a safe (<see cref="ReadOnlyOption.Safe"/>) read index at once,
    /// without the heartbeat quorum that proves it is still the leader (thesis §6.4 step 3), so a
    /// deposed leader can answer a stale read.</summary>
    ReadIndexWithoutQuorum = 4,
}
