using Microsoft.Extensions.Logging;

namespace Storage.Shards;

public sealed partial class ShardReplicaGrain
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} failed to activate; callers get {Typed}")]
    private partial void LogActivationFailed(Exception exception, string replica, string typed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} active (incarnation {Incarnation}, checkpoint {Checkpoint}, last index {Last}, {Conf})")]
    private partial void LogActivated(string replica, long incarnation, long checkpoint, long last, string conf);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} bootstrapped the group with founders {Founders}")]
    private partial void LogBootstrapped(string replica, string founders);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} became leader in term {Term}")]
    private partial void LogBecameLeader(string replica, long term);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} leaves silo {Silo} for the silo its shard map assigns")]
    private partial void LogRelocating(string replica, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} handed leadership to replica {Target}")]
    private partial void LogHandedOff(string replica, long target);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} (incarnation {Incarnation}) was fenced by a newer activation")]
    private partial void LogFenced(string replica, long incarnation);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica {Replica} could not persist its log")]
    private partial void LogPersistFailed(Exception e, string replica);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} dropped a malformed message batch: {Reason}")]
    private partial void LogMalformedBatch(string replica, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica {Replica} skipped undecodable entry {Index}: {Reason}")]
    private partial void LogUndecodableEntry(string replica, long index, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {Replica} could not send to {Peer}: {Reason}")]
    private partial void LogSendFailed(string replica, long peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} checkpointed at {Index} ({Bytes} bytes) and truncated its log")]
    private partial void LogCheckpointed(string replica, long index, int bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} checkpoint at {Index} failed")]
    private partial void LogCheckpointFailed(Exception e, string replica, long index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} applied a split at {Index}: {Status} ({Reason})")]
    private partial void LogSplitApplied(string replica, long index, string status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} wrote the initial checkpoint of {Child} at {Index} ({Bytes} bytes)")]
    private partial void LogChildCheckpointed(string replica, string child, long index, int bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica {Replica} could not write the initial checkpoint of {Child}")]
    private partial void LogChildCheckpointFailed(Exception e, string replica, string child);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} of a shard born from a split (or not in the map yet) starts empty and learns its state from its group")]
    private partial void LogStartsEmpty(string replica);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} proposed membership change {Kind} of replica {Target} at index {Index}")]
    private partial void LogMembershipProposed(string replica, string kind, long target, long index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} applied membership change {Kind} of replica {Target}: {Conf}")]
    private partial void LogMembershipChanged(string replica, string kind, long target, string conf);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} retired (not in shard map version {Version}): its log, hard state and checkpoint are deleted")]
    private partial void LogRetired(string replica, long version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Replica} was removed from its shard (shard map version {Version}): deleted its durable state and refused to activate")]
    private partial void LogRemovedRefused(string replica, long version);
}
