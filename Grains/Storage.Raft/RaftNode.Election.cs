using Storage.Raft.Quorum;

namespace Storage.Raft;

/// <summary>Elections: campaigns (pre-vote, vote, transfer), vote requests and their answers.</summary>
public partial class RaftNode
{
    private enum CampaignKind
    {
        PreElection,
        Election,
        Transfer,
    }

    private void StartCampaign(CampaignKind kind)
    {
        long term;
        MessageType type;
        if (kind == CampaignKind.PreElection)
        {
            BecomePreCandidate();
            type = MessageType.PreVote;
            term = Term + 1;
        }
        else
        {
            BecomeCandidate();
            type = MessageType.Vote;
            term = Term;
        }

        if (_tracker.RecordVote(Id, granted: true) == VoteResult.Won)
        {
            if (kind == CampaignKind.PreElection)
            {
                StartCampaign(CampaignKind.Election);
            }
            else
            {
                BecomeLeader();
            }

            return;
        }

        foreach (var id in Conf.Voters)
        {
            if (id == Id)
            {
                continue;
            }

            Send(new Message
            {
                Type = type,
                To = id,
                Term = term,
                Index = _log.LastIndex,
                LogTerm = _log.LastTerm,
                Transfer = kind == CampaignKind.Transfer,
            });
        }
    }

    private void HandleVoteRequest(Message m)
    {
        var pre = m.Type == MessageType.PreVote;
        var respType = pre ? MessageType.PreVoteResp : MessageType.VoteResp;
        if (MayVoteFor(m) && _log.IsUpToDate(m.Index, m.LogTerm))
        {
            // A granted response carries the candidate's term so it is counted in that election.
            Send(new Message { Type = respType, To = m.From, Term = m.Term });
            if (!pre)
            {
                _electionElapsed = 0;
                Vote = m.From;
            }
        }
        else
        {
            Send(new Message { Type = respType, To = m.From, Term = Term, Reject = true });
        }
    }

    private void StepCandidate(Message m)
    {
        var myResp = Role == RaftRole.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
        switch (m.Type)
        {
            case MessageType.App:
                BecomeFollower(m.Term, m.From);
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                BecomeFollower(m.Term, m.From);
                HandleHeartbeat(m);
                break;
            case MessageType.Snap:
                BecomeFollower(m.Term, m.From);
                HandleSnapshot(m);
                break;
            case MessageType.PreVoteResp:
            case MessageType.VoteResp:
                if (m.Type != myResp)
                {
                    return;
                }

                switch (_tracker.RecordVote(m.From, !m.Reject))
                {
                    case VoteResult.Won:
                        if (Role == RaftRole.PreCandidate)
                        {
                            StartCampaign(CampaignKind.Election);
                        }
                        else
                        {
                            BecomeLeader();
                        }

                        break;
                    case VoteResult.Lost:
                        BecomeFollower(Term, 0);
                        break;
                }

                break;
        }
    }
}
