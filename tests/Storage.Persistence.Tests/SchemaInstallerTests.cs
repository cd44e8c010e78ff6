using Npgsql;
using Storage.TestKit;

namespace Storage.Persistence.Tests;

[Collection(PostgresCollection.Name)]
public sealed class SchemaInstallerTests
{
    private static readonly string[] ExpectedScripts =
        ["001_orleans_main.sql", "002_orleans_clustering.sql", "003_orleans_persistence.sql", "010_raft.sql"];

    private readonly PostgresFixture _postgres;

    public SchemaInstallerTests(PostgresFixture postgres)
    {
        _postgres = postgres;
    }

    [Fact]
    public void Embeds_the_sql_files_in_file_name_order()
    {
        Assert.Equal(ExpectedScripts, SchemaScript.All.Select(s => s.Name));
        Assert.All(SchemaScript.All, s => Assert.Equal(64, s.Sha256.Length));
    }

    [Fact]
    public async Task Installs_on_an_empty_database_and_a_second_install_changes_nothing()
    {
        var db = await _postgres.CreateDatabaseAsync("install_twice", installSchema: false);
        var installer = new SchemaInstaller();
        Assert.False(await installer.IsInstalledAsync(db));

        Assert.Equal(ExpectedScripts, await installer.InstallAsync(db));
        Assert.True(await installer.IsInstalledAsync(db));
        var tables = await TablesAsync(db);
        foreach (var table in new[] { "orleansquery", "orleansmembershiptable", "orleansmembershipversiontable", "orleansstorage", "raft_replica", "raft_hard_state", "raft_log" })
        {
            Assert.Contains(table, tables);
        }

        Assert.Empty(await installer.InstallAsync(db));
        Assert.True(await installer.IsInstalledAsync(db));
    }

    [Fact]
    public async Task Every_script_runs_again_cleanly_on_an_installed_schema_and_restores_the_query_texts()
    {
        var db = await _postgres.CreateDatabaseAsync("reapply");
        var installer = new SchemaInstaller();
        var original = await ScalarAsync<string>(db, "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'WriteToStorageKey'");
        await ExecuteAsync(db, "UPDATE OrleansQuery SET QueryText = 'broken' WHERE QueryKey = 'WriteToStorageKey'");
        await ExecuteAsync(db, "INSERT INTO raft_replica VALUES ('keep-me', 7)");

        Assert.Equal(ExpectedScripts, await installer.InstallAsync(db, reapplyAll: true));
        Assert.Equal(ExpectedScripts, await installer.InstallAsync(db, reapplyAll: true));

        Assert.Equal(original, await ScalarAsync<string>(db, "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'WriteToStorageKey'"));
        Assert.Equal(7L, await ScalarAsync<long>(db, "SELECT incarnation FROM raft_replica WHERE replica_id = 'keep-me'"));
        Assert.True(await installer.IsInstalledAsync(db));
    }

    [Fact]
    public async Task A_changed_script_counts_as_not_installed_until_installed_again()
    {
        var db = await _postgres.CreateDatabaseAsync("changed");
        var installer = new SchemaInstaller();
        await ExecuteAsync(db, "UPDATE storage_schema_script SET sha256 = 'old' WHERE script = '010_raft.sql'");

        Assert.False(await installer.IsInstalledAsync(db));
        Assert.Equal(["010_raft.sql"], await installer.InstallAsync(db));
        Assert.True(await installer.IsInstalledAsync(db));
    }

    [Fact]
    public async Task Concurrent_installs_from_several_silos_all_succeed_and_install_once()
    {
        var db = await _postgres.CreateDatabaseAsync("concurrent", installSchema: false);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => new SchemaInstaller().InstallAsync(db))));

        // The advisory lock serialises them: exactly one applied everything, the rest found it done.
        Assert.Single(results, r => r.Count == ExpectedScripts.Length);
        Assert.Equal(5, results.Count(r => r.Count == 0));
        Assert.True(await new SchemaInstaller().IsInstalledAsync(db));
    }

    [Fact]
    public async Task Concurrent_forced_reinstalls_do_not_collide()
    {
        var db = await _postgres.CreateDatabaseAsync("concurrent_force", installSchema: false);
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => new SchemaInstaller().InstallAsync(db, reapplyAll: true))));
        Assert.All(results, r => Assert.Equal(ExpectedScripts, r));
        Assert.Equal(ExpectedScripts.Length, await ScalarAsync<long>(db, "SELECT count(*) FROM storage_schema_script"));
    }

    [Fact]
    public async Task Installs_every_query_key_the_orleans_providers_load()
    {
        var keys = new List<string>();
        await using (var connection = new NpgsqlConnection(_postgres.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT QueryKey FROM OrleansQuery", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                keys.Add(reader.GetString(0));
            }
        }

        string[] required =
        [
            // Orleans.Clustering.AdoNet 10.4.2 (DbStoredQueries) and its optional compare-and-delete cleanup.
            "GatewaysQueryKey", "MembershipReadRowKey", "MembershipReadAllKey", "InsertMembershipVersionKey",
            "UpdateIAmAlivetimeKey", "InsertMembershipKey", "UpdateMembershipKey", "DeleteMembershipTableEntriesKey",
            "CleanupDefunctSiloEntriesKey", "CleanupDefunctSiloEntryKey",
            // Orleans.Persistence.AdoNet 10.4.2 (AdoNetGrainStorage.DefaultInitializationQuery).
            "WriteToStorageKey", "ReadFromStorageKey", "ClearStorageKey", "DeleteStorageKey",
        ];
        Assert.Equal(required.Order(), keys.Order());
    }

    private static async Task<List<string>> TablesAsync(string db)
    {
        var tables = new List<string>();
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }

    internal static async Task<T> ScalarAsync<T>(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    internal static async Task ExecuteAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
