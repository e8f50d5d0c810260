-- Deployments (DESIGN §5): every manifest this store has run, and on each
-- enrollment and ledger row the hash of the deployment that made it. Rows
-- made before this migration keep NULL.

-- One row per deployment, from the first time a daemon started with it.
CREATE TABLE camp_deployments (
    hash TEXT PRIMARY KEY,
    format_version INTEGER NOT NULL,
    deployed_ms INTEGER NOT NULL,
    manifest TEXT NOT NULL
);

ALTER TABLE camp_enrollments ADD COLUMN deployment TEXT;
ALTER TABLE camp_ledger ADD COLUMN deployment TEXT;
