using System.Buffers.Binary;

namespace Storage.Raft.Tests.Simulation;

/// <summary>A state machine that is a hash chain of everything applied: equal hashes mean equal histories.</summary>
internal sealed class SimStateMachine
{
    private SimStateMachine(long applied, ulong hash)
    {
        Applied = applied;
        Hash = hash;
    }

    public long Applied { get; private set; }

    public ulong Hash { get; private set; }

    public static SimStateMachine Restore(Snapshot snapshot)
    {
        if (snapshot.Data.Length == 0)
        {
            return new SimStateMachine(snapshot.Index, 0);
        }

        var applied = BinaryPrimitives.ReadInt64LittleEndian(snapshot.Data);
        var hash = BinaryPrimitives.ReadUInt64LittleEndian(snapshot.Data.AsSpan(8));
        if (applied != snapshot.Index)
        {
            throw new InvalidOperationException($"snapshot data at {applied} labelled {snapshot.Index}");
        }

        return new SimStateMachine(applied, hash);
    }

    public void Apply(Entry e)
    {
        Applied = e.Index;
        Hash = (Hash * 31) ^ Simulator.Hash(e.Data) ^ ((ulong)e.Term << 20) ^ (ulong)e.Index ^ ((ulong)e.Type << 60);
    }

    public byte[] SnapshotData()
    {
        var data = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(data, Applied);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), Hash);
        return data;
    }
}
