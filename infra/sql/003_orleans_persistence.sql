-- Orleans ADO.NET grain persistence for invariant "Npgsql" (AddAdoNetGrainStorage).
--
-- Contract (Orleans.Persistence.AdoNet 10.4.2): the provider loads the query keys
--   WriteToStorageKey, ReadFromStorageKey, ClearStorageKey (required), DeleteStorageKey (needed
--   only with DeleteStateOnClear = true)
-- and binds @GrainIdHash int, @GrainIdN0 bigint, @GrainIdN1 bigint, @GrainTypeHash int,
-- @GrainTypeString text, @GrainIdExtensionString text (NULL for keys without an extension),
-- @ServiceId text, @GrainStateVersion int (NULL = "never read a row") and @PayloadBinary bytea.
-- Reads return PayloadBinary and Version; writes, clears and deletes return one column
-- NewGrainStateVersion. The ETag is the integer Version: a write/clear/delete succeeds only
-- when the caller's version is the stored one; a failed check must return either no row
-- (clear/delete with a version) or one row holding NULL or the caller's own version, which
-- Orleans turns into InconsistentStateException.

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NULL,
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea        NULL,
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    Version                integer      NULL
);

-- One row per grain state. Orleans' own script only has a non-unique index and guards the first
-- insert with WHERE NOT EXISTS, which two racing activations can both pass under READ COMMITTED;
-- a unique index makes the loser's insert a conflict instead of a duplicate row. The strings are
-- indexed through md5 to stay far below the btree row size limit whatever their length, and a
-- NULL extension maps to '' (md5 of a string is never empty). The hashes lead, so every query's
-- equality predicates use this index.
CREATE UNIQUE INDEX IF NOT EXISTS UX_OrleansStorage_Grain ON OrleansStorage
(
    GrainIdHash,
    GrainTypeHash,
    ServiceId,
    GrainIdN0,
    GrainIdN1,
    md5(GrainTypeString),
    COALESCE(md5(GrainIdExtensionString), '')
);

-- Optimistic write: returns the new version, or NULL when the caller's version is stale (or a
-- first write lost the race to another activation).
CREATE OR REPLACE FUNCTION storage_orleans_write_state(
    p_grain_id_hash    integer,
    p_grain_id_n0      bigint,
    p_grain_id_n1      bigint,
    p_grain_type_hash  integer,
    p_grain_type       text,
    p_grain_id_ext     text,
    p_service_id       text,
    p_version          integer,
    p_payload          bytea)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_new integer;
BEGIN
    IF p_version IS NOT NULL THEN
        -- The grain read (or wrote) a row before: compare-and-swap on its version.
        UPDATE OrleansStorage
        SET PayloadBinary = p_payload, ModifiedOn = now(), Version = Version + 1
        WHERE GrainIdHash = p_grain_id_hash
          AND GrainTypeHash = p_grain_type_hash
          AND ServiceId = p_service_id
          AND GrainIdN0 = p_grain_id_n0
          AND GrainIdN1 = p_grain_id_n1
          AND GrainTypeString = p_grain_type
          AND GrainIdExtensionString IS NOT DISTINCT FROM p_grain_id_ext
          AND Version = p_version
        RETURNING Version INTO v_new;
        RETURN v_new;
    END IF;

    -- No row was seen: create version 1 unless someone else already did.
    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString,
         ServiceId, PayloadBinary, ModifiedOn, Version)
    VALUES
        (p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash, p_grain_type, p_grain_id_ext,
         p_service_id, p_payload, now(), 1)
    ON CONFLICT DO NOTHING
    RETURNING Version INTO v_new;
    RETURN v_new;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
(
    'WriteToStorageKey',
    $q$
    SELECT storage_orleans_write_state(
        @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
        @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary) AS NewGrainStateVersion;
    $q$
),
(
    'ReadFromStorageKey',
    $q$
    SELECT PayloadBinary, Version
    FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash
      AND GrainTypeHash = @GrainTypeHash
      AND ServiceId = @ServiceId
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainTypeString = @GrainTypeString
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString;
    $q$
),
(
    'ClearStorageKey',
    -- Keeps the row (payload NULL) so the version keeps counting and a stale writer still fails.
    $q$
    UPDATE OrleansStorage
    SET PayloadBinary = NULL, ModifiedOn = now(), Version = Version + 1
    WHERE GrainIdHash = @GrainIdHash
      AND GrainTypeHash = @GrainTypeHash
      AND ServiceId = @ServiceId
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainTypeString = @GrainTypeString
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;
    $q$
),
(
    'DeleteStorageKey',
    -- Orleans expects "deleted version + 1" back to tell success from a conflict.
    $q$
    DELETE FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash
      AND GrainTypeHash = @GrainTypeHash
      AND ServiceId = @ServiceId
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainTypeString = @GrainTypeString
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND Version = @GrainStateVersion
    RETURNING Version + 1 AS NewGrainStateVersion;
    $q$
)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
