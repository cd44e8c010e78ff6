-- Orleans ADO.NET: the catalogue of operational queries.
--
-- The Orleans ADO.NET providers ship no SQL of their own: at start-up each provider reads
-- `SELECT QueryKey, QueryText FROM OrleansQuery` and from then on only runs those statements,
-- binding named parameters (@DeploymentId, @GrainIdHash, ...) and reading result columns by name
-- (case-insensitively with Npgsql). The later scripts fill this table with `INSERT ... ON CONFLICT
-- DO UPDATE`, so re-running them replaces the stored statements with this build's version.
--
-- Every script in this folder is idempotent. The installer (Storage.Persistence.SchemaInstaller)
-- runs them in file-name order in one transaction under pg_advisory_xact_lock, which also makes
-- concurrent installs from several silos safe. To run them by hand use
-- `psql --single-transaction -v ON_ERROR_STOP=1 -f ...` in the same order.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    -- text rather than Orleans' varchar(8000): no statement should fail on length.
    QueryText text        NOT NULL,

    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);
