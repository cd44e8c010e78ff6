-- The durable Raft logs of the replicas (Storage.Persistence.PostgresLogStore).
--
-- A replica id ("{shard}/{replica}") is never reused. Each activation of a replica first takes a
-- new incarnation (raft_replica.incarnation + 1) and tags every write with it; a write batch locks
-- the replica rows (FOR NO KEY UPDATE, which also serialises batches of one replica) and applies only writes whose incarnation is still current, so a
-- stale duplicate activation can never write (fencing). No foreign keys: the write path already
-- holds the raft_replica row, and a per-row FK check would double the cost of bulk appends.

CREATE TABLE IF NOT EXISTS raft_replica
(
    replica_id  text   NOT NULL PRIMARY KEY,
    incarnation bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS raft_hard_state
(
    replica_id   text   NOT NULL PRIMARY KEY,
    term         bigint NOT NULL,
    vote         bigint NOT NULL,
    commit_index bigint NOT NULL,
    -- The incarnation that wrote this state: for diagnosis, never read on the write path.
    incarnation  bigint NOT NULL
);

-- The primary key (replica_id, idx) is the only index the log needs: appends land at the right
-- edge of one replica's key range, an overwrite deletes idx >= n and a compaction idx <= n, both
-- range scans of the same btree, and a load reads idx > n in key order.
CREATE TABLE IF NOT EXISTS raft_log
(
    replica_id text     NOT NULL,
    idx        bigint   NOT NULL,
    term       bigint   NOT NULL,
    entry_type smallint NOT NULL,
    data       bytea    NOT NULL,

    CONSTRAINT pk_raft_log PRIMARY KEY (replica_id, idx)
);

-- The log is a queue: rows are appended and later deleted by compaction. Vacuum it after a small
-- fraction of dead rows instead of the default 20 %, so the btree and heap stay compact, and let
-- insert-driven vacuums keep the visibility map current for index-only loads.
ALTER TABLE raft_log SET (
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_insert_scale_factor = 0.05
);

-- Log payloads are already encoded commands; compressing each one costs CPU on the hot path and
-- gains little, so keep large values out of line but uncompressed.
ALTER TABLE raft_log ALTER COLUMN data SET STORAGE EXTERNAL;
