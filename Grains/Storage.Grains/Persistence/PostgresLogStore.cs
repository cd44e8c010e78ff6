using System.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Storage.Raft;

namespace Storage.Persistence;

/// <summary>
/// <see cref="IRaftLogStore"/> on PostgreSQL (tables raft_replica, raft_hard_state, raft_log of
/// infra/sql/010_raft.sql).
/// </summary>
/// <remarks>
/// A batch is one <see cref="NpgsqlBatch"/> without an explicit transaction: PostgreSQL runs the statements
/// of one batch (one Sync) as a single implicit transaction, so the whole group commit costs one round trip
/// and one WAL flush. Its first statement locks the replicas' fencing rows (<see cref="LockSql"/>), which an
/// <see cref="AcquireIncarnationAsync"/> (an UPDATE of the row) must wait for; every later statement only
/// touches replicas whose locked incarnation matches the write's, so fencing is decided once, atomically.
/// Entries go in as arrays through <c>unnest</c>: one statement for any number of entries.
/// </remarks>
public sealed partial class PostgresLogStore : IRaftLogStore, IAsyncDisposable
{
    /// <summary>
    /// The fencing read that opens every batch. FOR NO KEY UPDATE (the lock an UPDATE takes) rather than FOR SHARE:
    /// besides holding off <see cref="AcquireIncarnationAsync"/>, it serialises concurrent batches that touch the same
    /// replica, whose delete-then-insert would otherwise race (both delete the old row, both insert the new one).
    /// Rows are locked in replica order, so batches over overlapping replica sets cannot deadlock.
    /// </summary>
    internal const string LockSql =
        "SELECT replica_id, incarnation FROM raft_replica WHERE replica_id = ANY($1) ORDER BY replica_id FOR NO KEY UPDATE";

    // A scalar subquery, not EXISTS: as a semi-join, the planner made r.replica_id drive the raft_log index scan and
    // checked "idx >= from" row by row, so every truncation read the replica's whole retained log (35 ms at 90k rows).
    private const string CurrentIncarnation =
        "w.incarnation = (SELECT r.incarnation FROM raft_replica r WHERE r.replica_id = w.replica_id)";

    internal const string TruncateSql = $"""
        DELETE FROM raft_log l
        USING unnest($1::text[], $2::bigint[], $3::bigint[]) AS w(replica_id, incarnation, from_idx)
        WHERE l.replica_id = w.replica_id AND l.idx >= w.from_idx AND {CurrentIncarnation}
        """;

    internal const string CompactSql = $"""
        DELETE FROM raft_log l
        USING unnest($1::text[], $2::bigint[], $3::bigint[]) AS w(replica_id, incarnation, through_idx)
        WHERE l.replica_id = w.replica_id AND l.idx <= w.through_idx AND {CurrentIncarnation}
        """;

    private const string InsertSql = $"""
        INSERT INTO raft_log (replica_id, idx, term, entry_type, data)
        SELECT w.replica_id, w.idx, w.term, w.entry_type, w.data
        FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::smallint[], $6::bytea[])
             AS w(replica_id, incarnation, idx, term, entry_type, data)
        WHERE {CurrentIncarnation}
        """;

    private const string HardStateSql = $"""
        INSERT INTO raft_hard_state (replica_id, term, vote, commit_index, incarnation)
        SELECT w.replica_id, w.term, w.vote, w.commit_index, w.incarnation
        FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
             AS w(replica_id, incarnation, term, vote, commit_index)
        WHERE {CurrentIncarnation}
        ON CONFLICT (replica_id) DO UPDATE
        SET term = EXCLUDED.term, vote = EXCLUDED.vote, commit_index = EXCLUDED.commit_index, incarnation = EXCLUDED.incarnation
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly ILogger _logger;

    /// <summary>Uses <paramref name="dataSource"/>; disposes it with the store only if <paramref name="ownsDataSource"/>.</summary>
    public PostgresLogStore(NpgsqlDataSource dataSource, ILogger<PostgresLogStore>? logger = null, bool ownsDataSource = false)
    {
        _dataSource = dataSource ?? throw new ArgumentNullException(nameof(dataSource));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _ownsDataSource = ownsDataSource;
    }

    /// <summary>Creates and owns a pooled data source for <paramref name="connectionString"/> (tools and tests; a silo shares its one data source).</summary>
    public PostgresLogStore(string connectionString, ILogger<PostgresLogStore>? logger = null)
        : this(PostgresConnections.CreateDataSource(connectionString, new DatabaseOptions().MaxPoolSize), logger, ownsDataSource: true)
    {
    }

    public async Task<long> AcquireIncarnationAsync(string replicaId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(replicaId);
        await using var connection = await PostgresConnections.OpenAsync(_dataSource, ct).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO raft_replica (replica_id, incarnation) VALUES ($1, 1)
            ON CONFLICT (replica_id) DO UPDATE SET incarnation = raft_replica.incarnation + 1
            RETURNING incarnation
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = replicaId });
        var incarnation = (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        LogAcquired(replicaId, incarnation);
        return incarnation;
    }

    public async Task<StoredReplicaLog> LoadAsync(string replicaId, long afterIndex, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(replicaId);
        await using var connection = await PostgresConnections.OpenAsync(_dataSource, ct).ConfigureAwait(false);
        // One snapshot for both reads, so the hard state and the entries belong together.
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, tx)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SELECT term, vote, commit_index FROM raft_hard_state WHERE replica_id = $1")
                {
                    Parameters = { new NpgsqlParameter<string> { TypedValue = replicaId } },
                },
                new NpgsqlBatchCommand("SELECT idx, term, entry_type, data FROM raft_log WHERE replica_id = $1 AND idx > $2 ORDER BY idx")
                {
                    Parameters =
                    {
                        new NpgsqlParameter<string> { TypedValue = replicaId },
                        new NpgsqlParameter<long> { TypedValue = afterIndex },
                    },
                },
            },
        };

        HardState? hardState = null;
        var entries = new List<Entry>();
        await using (var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                hardState = new HardState(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
            }

            await reader.NextResultAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                entries.Add(new Entry(
                    Term: reader.GetInt64(1),
                    Index: reader.GetInt64(0),
                    Type: (EntryType)reader.GetInt16(2),
                    Data: reader.GetFieldValue<byte[]>(3)));
            }
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return new StoredReplicaLog(replicaId, hardState, entries);
    }

    public async Task<IReadOnlyList<WriteOutcome>> WriteBatchAsync(IReadOnlyList<ReplicaLogWrite> writes, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        if (writes.Count == 0)
        {
            return Array.Empty<WriteOutcome>();
        }

        foreach (var write in writes)
        {
            ArgumentNullException.ThrowIfNull(write, nameof(writes));
            write.Validate();
        }

        var groups = CoalescedWrite.Coalesce(writes);
        var replicaIds = writes.Select(w => w.ReplicaId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

        await using var connection = await PostgresConnections.OpenAsync(_dataSource, ct).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(Command(LockSql, Param(replicaIds)));
        AddTruncations(batch, groups);
        AddCompactions(batch, groups);
        AddInserts(batch, groups);
        AddHardStates(batch, groups);

        var current = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                current[reader.GetString(0)] = reader.GetInt64(1);
            }

            // Drain the remaining statements so that an error in any of them surfaces here.
            while (await reader.NextResultAsync(ct).ConfigureAwait(false))
            {
            }
        }

        var outcomes = new WriteOutcome[writes.Count];
        for (var i = 0; i < writes.Count; i++)
        {
            var write = writes[i];
            var committed = current.TryGetValue(write.ReplicaId, out var incarnation) && incarnation == write.Incarnation;
            outcomes[i] = committed ? WriteOutcome.Committed : WriteOutcome.Fenced;
            if (!committed)
            {
                LogFenced(write.ReplicaId, write.Incarnation, current.TryGetValue(write.ReplicaId, out var c) ? c : 0);
            }
        }

        return outcomes;
    }

    public async Task DeleteReplicaAsync(string replicaId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(replicaId);
        await using var connection = await PostgresConnections.OpenAsync(_dataSource, ct).ConfigureAwait(false);
        // The incarnation bump comes first: it waits for in-flight batches holding the row lock,
        // and every batch after it sees a newer incarnation and is fenced.
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                Command(
                    """
                    INSERT INTO raft_replica (replica_id, incarnation) VALUES ($1, 1)
                    ON CONFLICT (replica_id) DO UPDATE SET incarnation = raft_replica.incarnation + 1
                    """,
                    Param(replicaId)),
                Command("DELETE FROM raft_hard_state WHERE replica_id = $1", Param(replicaId)),
                Command("DELETE FROM raft_log WHERE replica_id = $1", Param(replicaId)),
            },
        };
        await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        LogDeleted(replicaId);
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void AddTruncations(NpgsqlBatch batch, List<CoalescedWrite> groups)
    {
        var selected = groups.Where(g => g.TruncateFrom is not null).ToList();
        if (selected.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                TruncateSql,
                Param(selected.Select(g => g.ReplicaId).ToArray()),
                Param(selected.Select(g => g.Incarnation).ToArray()),
                Param(selected.Select(g => g.TruncateFrom!.Value).ToArray())));
        }
    }

    private static void AddCompactions(NpgsqlBatch batch, List<CoalescedWrite> groups)
    {
        var selected = groups.Where(g => g.CompactThrough > 0).ToList();
        if (selected.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                CompactSql,
                Param(selected.Select(g => g.ReplicaId).ToArray()),
                Param(selected.Select(g => g.Incarnation).ToArray()),
                Param(selected.Select(g => g.CompactThrough).ToArray())));
        }
    }

    private static void AddInserts(NpgsqlBatch batch, List<CoalescedWrite> groups)
    {
        var count = groups.Sum(g => g.Entries.Count);
        if (count == 0)
        {
            return;
        }

        var replicaIds = new string[count];
        var incarnations = new long[count];
        var indexes = new long[count];
        var terms = new long[count];
        var types = new short[count];
        var data = new byte[count][];
        var i = 0;
        foreach (var group in groups)
        {
            foreach (var entry in group.Entries)
            {
                replicaIds[i] = group.ReplicaId;
                incarnations[i] = group.Incarnation;
                indexes[i] = entry.Index;
                terms[i] = entry.Term;
                types[i] = (short)entry.Type;
                data[i] = entry.Data;
                i++;
            }
        }

        batch.BatchCommands.Add(Command(
            InsertSql,
            Param(replicaIds),
            Param(incarnations),
            Param(indexes),
            Param(terms),
            new NpgsqlParameter<short[]> { TypedValue = types, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint },
            new NpgsqlParameter<byte[][]> { TypedValue = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea }));
    }

    private static void AddHardStates(NpgsqlBatch batch, List<CoalescedWrite> groups)
    {
        var selected = groups.Where(g => g.HardState is not null).ToList();
        if (selected.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                HardStateSql,
                Param(selected.Select(g => g.ReplicaId).ToArray()),
                Param(selected.Select(g => g.Incarnation).ToArray()),
                Param(selected.Select(g => g.HardState!.Value.Term).ToArray()),
                Param(selected.Select(g => g.HardState!.Value.Vote).ToArray()),
                Param(selected.Select(g => g.HardState!.Value.Commit).ToArray())));
        }
    }

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter Param(string value) => new NpgsqlParameter<string> { TypedValue = value };

    private static NpgsqlParameter Param(string[] values) =>
        new NpgsqlParameter<string[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    private static NpgsqlParameter Param(long[] values) =>
        new NpgsqlParameter<long[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint };

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {ReplicaId} acquired incarnation {Incarnation}")]
    private partial void LogAcquired(string replicaId, long incarnation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Write of replica {ReplicaId} fenced: incarnation {Incarnation} is not the current {Current} (0 = none)")]
    private partial void LogFenced(string replicaId, long incarnation, long current);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {ReplicaId} deleted (log and hard state removed, incarnations fenced)")]
    private partial void LogDeleted(string replicaId);
}
