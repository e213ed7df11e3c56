using Ketch.Raft.Tracker;

namespace Ketch.Raft;

/// <summary>Leadership transfer (Raft thesis §3.10): the leader stops taking proposals,
/// brings the transferee's log up to date, then tells it to campaign at once.</summary>
internal sealed partial class Raft
{
    private void HandleTransferLeader(Message m, Progress pr)
    {
        var transferee = m.From;
        if (pr.IsLearner)
        {
            Debug($"{Id} is learner. Ignored transferring leadership");
            return;
        }
        if (LeadTransferee != 0)
        {
            if (LeadTransferee == transferee)
            {
                Info($"{Id} [term {Term}] transfer leadership to {transferee} is in progress, ignores request to same node {transferee}");
                return;
            }
            Info($"{Id} [term {Term}] abort previous transferring leadership to {LeadTransferee}");
            AbortLeaderTransfer();
        }
        if (transferee == Id)
        {
            Debug($"{Id} is already leader. Ignored transferring leadership to self");
            return;
        }
        Info($"{Id} [term {Term}] starts to transfer leadership to {transferee}");
        // The transfer must finish within one election timeout or it is abandoned.
        _electionElapsed = 0;
        LeadTransferee = transferee;
        if (pr.Match == Log.LastIndex())
        {
            SendTimeoutNow(transferee);
            Info($"{Id} sends MsgTimeoutNow to {transferee} immediately as {transferee} already has up-to-date log");
        }
        else
        {
            MaybeSendAppend(transferee, sendIfEmpty: true);
        }
    }

    private void SendTimeoutNow(ulong to) =>
        Send(new Message { From = Id, To = to, Type = MessageType.TimeoutNow, Term = Term });
}
