using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Runtime;
using Orleans.Storage;

namespace Storage.Persistence.Tests;

/// <summary>Orleans' own ADO.NET providers running on this project's SQL: the query contract holds.</summary>
[Collection(OrleansClusterCollection.Name)]
public sealed class OrleansAdoNetTests
{
    public const string StorageName = "checkpoints";

    private readonly OrleansClusterFixture _fixture;

    public OrleansAdoNetTests(OrleansClusterFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task The_membership_table_shows_both_silos_active()
    {
        var rows = await QueryAsync(
            "SELECT Address, Port, Status, ProxyPort FROM OrleansMembershipTable WHERE DeploymentId = $1",
            r => (Address: r.GetString(0), Port: r.GetInt32(1), Status: r.GetInt32(2), ProxyPort: r.GetInt32(3)),
            _fixture.ClusterId);

        var silos = _fixture.Cluster.Silos.Select(s => s.SiloAddress).ToList();
        Assert.Equal(2, silos.Count);
        foreach (var silo in silos)
        {
            var row = Assert.Single(rows, r => r.Address == silo.Endpoint.Address.ToString() && r.Port == silo.Endpoint.Port);
            Assert.Equal((int)SiloStatus.Active, row.Status);
            Assert.True(row.ProxyPort > 0, "a gateway port is advertised for the client");
        }

        var version = await QueryAsync("SELECT Version FROM OrleansMembershipVersionTable WHERE DeploymentId = $1", r => r.GetInt32(0), _fixture.ClusterId);
        Assert.True(Assert.Single(version) >= 4, "each silo's insert and status changes moved the table version");
    }

    [Fact]
    public async Task Grains_run_on_both_silos_which_found_each_other_through_the_table()
    {
        var silos = new HashSet<string>();
        for (var i = 0; i < 200 && silos.Count < 2; i++)
        {
            silos.Add((await _fixture.Cluster.Client.GetGrain<ICheckpointTestGrain>($"spread-{i}").Read()).Silo);
        }

        Assert.Equal(2, silos.Count);
    }

    [Fact]
    public async Task Grain_state_is_read_back_from_postgres_after_deactivation()
    {
        var grain = _fixture.Cluster.Client.GetGrain<ICheckpointTestGrain>("survivor");
        var before = await grain.Read();
        Assert.False(before.RecordExists);
        Assert.Null(before.ETag);

        await grain.Write("first", 1);
        await grain.Write("second", 2);
        await _fixture.Cluster.DeactivateAsync(grain);

        var after = await grain.Read();
        Assert.NotEqual(before.Activation, after.Activation);
        Assert.Equal("second", after.Value);
        Assert.Equal(2, after.Index);
        Assert.True(after.RecordExists);
        Assert.Equal("2", after.ETag);

        // The provider stores a string-keyed grain's key as the "extension" and the state name as the type.
        var rows = await QueryAsync(
            "SELECT Version, position(convert_to('second', 'UTF8') in PayloadBinary) > 0 FROM OrleansStorage WHERE ServiceId = $1 AND GrainTypeString = 'checkpoint' AND GrainIdExtensionString = 'survivor'",
            r => (Version: r.GetInt32(0), HasValue: r.GetBoolean(1)),
            _fixture.ServiceId);
        var row = Assert.Single(rows);
        Assert.Equal(2, row.Version);
        Assert.True(row.HasValue, "the stored payload holds the last value");
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_rejected()
    {
        var grain = _fixture.Cluster.Client.GetGrain<ICheckpointTestGrain>("contended");
        await grain.Write("mine", 1);
        var etag = (await grain.Read()).ETag;
        // Another writer moves the version behind the grain's back (a duplicate activation would).
        var changed = await ExecuteAsync(
            "UPDATE OrleansStorage SET Version = Version + 1 WHERE ServiceId = $1 AND Version = $2 AND GrainTypeString = 'checkpoint' AND GrainIdExtensionString = 'contended'",
            _fixture.ServiceId,
            int.Parse(etag!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, changed);

        await Assert.ThrowsAsync<InconsistentStateException>(() => grain.Write("lost update", 2));

        // A fresh activation reads the current version and can write again.
        await _fixture.Cluster.DeactivateAsync(grain);
        await grain.Write("after reload", 3);
        Assert.Equal("after reload", (await grain.Read()).Value);
    }

    [Fact]
    public async Task Clearing_state_keeps_a_versioned_empty_row()
    {
        var grain = _fixture.Cluster.Client.GetGrain<ICheckpointTestGrain>("cleared");
        await grain.Write("temporary", 1);
        await grain.Clear();
        await _fixture.Cluster.DeactivateAsync(grain);

        var after = await grain.Read();
        Assert.Null(after.Value);
        Assert.False(after.RecordExists);
        Assert.Equal("2", after.ETag);
        await grain.Write("again", 2);
        Assert.Equal("3", (await grain.Read()).ETag);
    }

    [Fact]
    public async Task The_membership_queries_honour_versions_and_clean_up_only_dead_rows()
    {
        var table = _fixture.Cluster.GetSiloServiceProvider().GetRequiredService<IMembershipTable>();
        Assert.NotEqual("InProcessMembershipTable", table.GetType().Name);

        var data = await table.ReadAllAsync();
        var longAgo = DateTime.UtcNow.AddHours(-2);
        var ghost = new MembershipEntry
        {
            SiloAddress = SiloAddress.New(IPAddress.Loopback, 1, 12345),
            SiloName = "ghost",
            HostName = "nowhere",
            Status = SiloStatus.Dead,
            ProxyPort = 0,
            StartTime = longAgo,
            IAmAliveTime = longAgo,
        };

        // A stale table version: refused, nothing written.
        Assert.False(await table.InsertRowAsync(ghost, new TableVersion(data.Version.Version - 1, (data.Version.Version - 1).ToString(System.Globalization.CultureInfo.InvariantCulture))));
        Assert.DoesNotContain((await table.ReadAllAsync()).Members, m => m.Item1.SiloAddress.Equals(ghost.SiloAddress));

        // The live silos may move the version between our read and insert (rarely: only on status changes).
        var inserted = false;
        for (var attempt = 0; attempt < 5 && !inserted; attempt++)
        {
            data = await table.ReadAllAsync();
            inserted = await table.InsertRowAsync(ghost, data.Version.Next());
        }

        Assert.True(inserted);
        var read = await table.ReadRowAsync(ghost.SiloAddress);
        var (entry, _) = Assert.Single(read.Members);
        Assert.Equal("ghost", entry.SiloName);
        Assert.Equal(SiloStatus.Dead, entry.Status);
        Assert.Equal(data.Version.Version + 1, read.Version.Version);

        // A second insert of the same silo is a conflict, whatever the version.
        Assert.False(await table.InsertRowAsync(ghost, read.Version.Next()));

        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddMinutes(-30));
        var members = (await table.ReadAllAsync()).Members;
        Assert.DoesNotContain(members, m => m.Item1.SiloAddress.Equals(ghost.SiloAddress));
        foreach (var silo in _fixture.Cluster.Silos)
        {
            Assert.Contains(members, m => m.Item1.SiloAddress.Equals(silo.SiloAddress) && m.Item1.Status == SiloStatus.Active);
        }
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> map, params object[] args)
    {
        await using var connection = new NpgsqlConnection(_fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    private async Task<int> ExecuteAsync(string sql, params object[] args)
    {
        await using var connection = new NpgsqlConnection(_fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        return await command.ExecuteNonQueryAsync();
    }
}
