-- Deployments (DESIGN §5): every manifest this store has run, and on each
-- enrollment and ledger row the hash of the deployment that made it. Rows
-- made before this migration keep NULL.

-- One row per deployment, from the first time a daemon started with it.
CREATE TABLE deployments (
    hash TEXT PRIMARY KEY,
    format_version BIGINT NOT NULL,
    deployed_ms BIGINT NOT NULL,
    manifest TEXT NOT NULL
);

ALTER TABLE enrollments ADD COLUMN deployment TEXT;
ALTER TABLE ledger ADD COLUMN deployment TEXT;
