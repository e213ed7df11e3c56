namespace Ketch.Raft;

/// <summary>
/// The kinds of <see cref="Message"/>. Local kinds (Hup, Beat, Prop when proposed locally,
/// Unreachable, SnapStatus, CheckQuorum) are how the application and the clock talk to the
/// state machine; the others travel between members. The numbering is part of the binary
/// encoding and never changes.
/// </summary>
public enum MessageType : byte
{
    /// <summary>Local: start an election (or pre-election).</summary>
    Hup = 0,

    /// <summary>Local, leader: send heartbeats now.</summary>
    Beat = 1,

    /// <summary>Propose entries; forwarded by followers to the leader.</summary>
    Prop = 2,

    /// <summary>AppendEntries (Raft §5.3): entries after (LogTerm, Index), plus the commit index.</summary>
    App = 3,

    /// <summary>The answer to <see cref="App"/> and <see cref="Snap"/>: accepted up to Index, or rejected with a hint.</summary>
    AppResp = 4,

    /// <summary>RequestVote (Raft §5.2).</summary>
    Vote = 5,

    /// <summary>The answer to <see cref="Vote"/>.</summary>
    VoteResp = 6,

    /// <summary>InstallSnapshot (Raft §7).</summary>
    Snap = 7,

    /// <summary>Leader heartbeat carrying a commit index the follower is known to have.</summary>
    Heartbeat = 8,

    /// <summary>The answer to <see cref="Heartbeat"/>.</summary>
    HeartbeatResp = 9,

    /// <summary>Local, leader: the transport could not reach a follower.</summary>
    Unreachable = 10,

    /// <summary>Local, leader: the outcome of sending a snapshot.</summary>
    SnapStatus = 11,

    /// <summary>Local, leader: check that a quorum was active during the last election timeout.</summary>
    CheckQuorum = 12,

    /// <summary>Ask the leader to hand leadership to a member (thesis §3.10).</summary>
    TransferLeader = 13,

    /// <summary>Tell the transferee to start an election at once, ignoring its timeout.</summary>
    TimeoutNow = 14,

    /// <summary>Ask for a read index (thesis §6.4).</summary>
    ReadIndex = 15,

    /// <summary>The answer to <see cref="ReadIndex"/>.</summary>
    ReadIndexResp = 16,

    /// <summary>Pre-vote request (thesis §9.6): would you vote for me?</summary>
    PreVote = 17,

    /// <summary>The answer to <see cref="PreVote"/>.</summary>
    PreVoteResp = 18,
}

/// <summary>Classification helpers for <see cref="MessageType"/>.</summary>
public static class MessageTypes
{
    /// <summary>True for messages that only the local application or clock may step.</summary>
    public static bool IsLocal(this MessageType type) => type is MessageType.Hup or MessageType.Beat
        or MessageType.Unreachable or MessageType.SnapStatus or MessageType.CheckQuorum;

    /// <summary>True for answers to another member's request.</summary>
    public static bool IsResponse(this MessageType type) => type is MessageType.AppResp or MessageType.VoteResp
        or MessageType.HeartbeatResp or MessageType.ReadIndexResp or MessageType.PreVoteResp;

    /// <summary>The response kind that answers a vote request kind.</summary>
    public static MessageType VoteResponseFor(this MessageType type) => type switch
    {
        MessageType.Vote => MessageType.VoteResp,
        MessageType.PreVote => MessageType.PreVoteResp,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a vote request"),
    };

    /// <summary>The name used by the text forms: <c>Msg</c> + the enum name.</summary>
    public static string Name(this MessageType type) => "Msg" + type;
}
