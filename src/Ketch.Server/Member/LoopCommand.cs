using Ketch.Raft;

namespace Ketch.Server.Member;

/// <summary>What the Raft loop is asked to do; every input reaches the RawNode through it.</summary>
internal enum LoopCommandKind : byte
{
    Tick,
    Propose,
    ProposeConfChange,
    ReadIndex,
    Step,
    TransferLeader,
    ReportUnreachable,
    ReportSnapshot,
}

/// <summary>One entry of the loop's bounded command queue.</summary>
internal readonly record struct LoopCommand(
    LoopCommandKind Kind,
    ulong Id = 0,
    byte[]? Data = null,
    Message? Message = null,
    ConfChangeV2? ConfChange = null,
    bool Flag = false);
