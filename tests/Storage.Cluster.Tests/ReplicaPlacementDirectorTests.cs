using System.Collections.Immutable;
using System.Net;
using Orleans.Runtime.Placement;
using Storage.Directory;
using Storage.Shards;
using Xunit;

namespace Storage.Cluster.Tests;

/// <summary>
/// The director on its own: a replica that migrates to move home goes home or stays (the migration is called off),
/// never to another stand-in silo; an ordinary activation whose home is unusable still gets a stand-in silo.
/// </summary>
public sealed class ReplicaPlacementDirectorTests
{
    private static readonly SiloAddress Eu = Silo(1001);
    private static readonly SiloAddress Us = Silo(1002);
    private static readonly SiloAddress Ap = Silo(1003);

    // The map names silos; placement is offered addresses: the membership view maps one to the other.
    private static readonly ClusterMembershipSnapshot Membership = new(
        new[] { Eu, Us, Ap }.ToImmutableDictionary(s => s, s => new ClusterMember(s, SiloStatus.Active, NameOf(s))),
        new MembershipVersion(1));

    private readonly ShardMap _map = ShardMapBuilder.Build(1, 3, new[] { Eu, Us, Ap }.Select((s, i) => new SiloInfo(NameOf(s), $"r{i}", $"r{i}-1", 1)));
    private readonly ReplicaPlacementDirector _director;

    public ReplicaPlacementDirectorTests()
    {
        // The cache only asks the directory when it holds no map; this one is handed the map directly.
        var maps = new ShardMapCache(null!);
        maps.Update(_map);
        _director = new ReplicaPlacementDirector(maps, new SiloNames(() => Membership));
    }

    [Fact]
    public async Task AMoveHomeGoesHomeWhenPlacementCanUseIt()
    {
        var (key, home) = FirstReplica();
        var standIn = Others(home)[0];

        var chosen = await _director.OnAddActivation(new ReplicaPlacementStrategy(), Target(key, relocating: true), new Context(standIn, Eu, Us, Ap));

        Assert.Equal(home, chosen);
    }

    [Fact]
    public async Task AMoveHomeStaysPutWhenPlacementCannotUseTheHomeSilo()
    {
        var (key, home) = FirstReplica();
        var others = Others(home);
        var activating = await _director.OnAddActivation(new ReplicaPlacementStrategy(), Target(key, relocating: false), new Context(others[0], others));
        Assert.Contains(activating, others);

        // Standing in on the silo an ordinary activation would not pick, so that "stays" and "moves to the stand-in
        // slot" are different answers.
        var here = others.Single(s => !s.Equals(activating));
        var moving = await _director.OnAddActivation(new ReplicaPlacementStrategy(), Target(key, relocating: true), new Context(here, others));

        Assert.Equal(here, moving);
    }

    private (string Key, SiloAddress Home) FirstReplica()
    {
        var shard = _map.Shards[0];
        var replica = shard.Replicas[0];
        return (shard.ReplicaKey(replica.ReplicaId), new[] { Eu, Us, Ap }.Single(s => NameOf(s) == replica.SiloKey));
    }

    private static SiloAddress[] Others(SiloAddress home) => new[] { Eu, Us, Ap }.Where(s => !s.Equals(home)).ToArray();

    private static PlacementTarget Target(string replicaKey, bool relocating) => new(
        GrainId.Create("shardreplica", replicaKey),
        relocating ? new Dictionary<string, object> { [ReplicaPlacementDirector.RelocationKey] = true } : null!,
        default,
        0);

    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);

    private static string NameOf(SiloAddress silo) => $"silo-{silo.Endpoint.Port}";

    private sealed class Context : IPlacementContext
    {
        private readonly SiloAddress[] _compatible;

        public Context(SiloAddress local, params SiloAddress[] compatible)
        {
            LocalSilo = local;
            _compatible = compatible;
        }

        public SiloAddress LocalSilo { get; }

        public SiloStatus LocalSiloStatus => SiloStatus.Active;

        public SiloAddress[] GetCompatibleSilos(PlacementTarget target) => _compatible;

        public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) =>
            throw new NotSupportedException("the replica director does not use interface versions");
    }
}
