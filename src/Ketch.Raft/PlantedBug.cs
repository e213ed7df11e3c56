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
}
