using System.Buffers.Binary;

namespace Storage.Raft;

/// <summary>What one membership change does. Changes are made one node at a time.</summary>
public enum ConfChangeType : byte
{
    /// <summary>Add a non-voting member that receives the log (catch up before promotion).</summary>
    AddLearner = 1,

    /// <summary>Add a voter, or promote a learner to voter.</summary>
    AddVoter = 2,

    /// <summary>Remove a voter or learner.</summary>
    RemoveNode = 3,
}

/// <summary>A single-node membership change. Encoded into a <see cref="EntryType.ConfChange"/> entry.</summary>
public readonly record struct ConfChange(ConfChangeType Type, long NodeId)
{
    public byte[] Encode()
    {
        var buffer = new byte[9];
        buffer[0] = (byte)Type;
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(1), NodeId);
        return buffer;
    }

    public static ConfChange Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length != 9 || data[0] is < 1 or > 3)
        {
            throw new FormatException($"malformed conf change entry ({data.Length} bytes)");
        }

        return new ConfChange((ConfChangeType)data[0], BinaryPrimitives.ReadInt64LittleEndian(data[1..]));
    }

    /// <summary>The membership after this change, or null (with a reason) if the change is not valid from <paramref name="conf"/>.</summary>
    public ConfState? ApplyTo(ConfState conf, out string? reason)
    {
        reason = null;
        var voters = conf.Voters.ToList();
        var learners = conf.Learners.ToList();
        switch (Type)
        {
            case ConfChangeType.AddLearner:
                if (conf.IsMember(NodeId))
                {
                    reason = $"node {NodeId} is already a member";
                    return null;
                }

                learners.Add(NodeId);
                break;
            case ConfChangeType.AddVoter:
                if (conf.IsVoter(NodeId))
                {
                    reason = $"node {NodeId} is already a voter";
                    return null;
                }

                learners.Remove(NodeId);
                voters.Add(NodeId);
                break;
            case ConfChangeType.RemoveNode:
                if (!conf.IsMember(NodeId))
                {
                    reason = $"node {NodeId} is not a member";
                    return null;
                }

                if (conf.IsVoter(NodeId) && conf.Voters.Count == 1)
                {
                    reason = "cannot remove the last voter";
                    return null;
                }

                voters.Remove(NodeId);
                learners.Remove(NodeId);
                break;
            default:
                reason = $"unknown change type {Type}";
                return null;
        }

        voters.Sort();
        learners.Sort();
        return new ConfState(voters, learners);
    }
}
