-- The daemon's own tables, beside the customer's (DESIGN §3.2: a `camp_`
-- prefix in SQLite). Instants are integer milliseconds since the Unix
-- epoch, UTC. Customer keys are kept as text.

-- Running daemons: one row each, renewed every tick. In SQLite a live row
-- of another process refuses a second daemon.
CREATE TABLE camp_daemons (
    name TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    until_ms INTEGER NOT NULL
);

-- Every deployed plan version; enrollments keep the version they began with.
CREATE TABLE camp_plans (
    campaign TEXT NOT NULL,
    hash TEXT NOT NULL,
    plan TEXT NOT NULL,
    deployed_ms INTEGER NOT NULL,
    PRIMARY KEY (campaign, hash)
);

-- Scheduled campaigns: occurrences count from `since_ms` (first deployment).
CREATE TABLE camp_schedules (
    campaign TEXT PRIMARY KEY,
    since_ms INTEGER NOT NULL
);

-- One row per evaluated occurrence of a scheduled campaign.
CREATE TABLE camp_occurrences (
    campaign TEXT NOT NULL,
    occurrence TEXT NOT NULL,
    due_ms INTEGER NOT NULL,
    done_ms INTEGER NOT NULL,
    enrolled INTEGER NOT NULL,
    PRIMARY KEY (campaign, occurrence)
);

-- At most one enrollment per (campaign, customer, occurrence): the
-- occurrence is the triggering event's row or the scheduled instant.
CREATE TABLE camp_enrollments (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    plan_hash TEXT NOT NULL,
    customer TEXT NOT NULL,
    occurrence TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    trigger_ms INTEGER,
    trigger_props TEXT,
    snapshot TEXT,
    arm TEXT,
    step INTEGER NOT NULL DEFAULT -1,
    fresh INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL DEFAULT 'active',
    reason TEXT,
    due_ms INTEGER NOT NULL,
    enrolled_ms INTEGER NOT NULL,
    first_send_ms INTEGER,
    ended_ms INTEGER,
    UNIQUE (campaign, customer, occurrence)
);
CREATE INDEX camp_enrollments_due ON camp_enrollments (due_ms, priority DESC, id) WHERE state = 'active';
CREATE INDEX camp_enrollments_customer ON camp_enrollments (customer, campaign);

-- The send ledger: at most one row per (enrollment, step, attempt), where
-- attempt 0 is the step's channel and 1.. its fallbacks. Caps count it.
CREATE TABLE camp_ledger (
    id INTEGER PRIMARY KEY,
    enrollment INTEGER NOT NULL,
    step INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    campaign TEXT NOT NULL,
    customer TEXT NOT NULL,
    arm TEXT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    idempotency_key TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    next_try_ms INTEGER,
    lease_owner TEXT,
    lease_until_ms INTEGER,
    sent_ms INTEGER,
    delivered_ms INTEGER,
    clicked_ms INTEGER,
    failed_ms INTEGER,
    fallback_ms INTEGER,
    error TEXT,
    UNIQUE (enrollment, step, attempt)
);
CREATE INDEX camp_ledger_outbox ON camp_ledger (next_try_ms) WHERE status = 'pending';
CREATE INDEX camp_ledger_fallback ON camp_ledger (fallback_ms) WHERE fallback_ms IS NOT NULL;
CREATE INDEX camp_ledger_caps ON camp_ledger (customer, created_ms);

-- The rendered message of each send that goes out, apart from the ledger
-- row so that moving a row from pending to sent rewrites a narrow row.
CREATE TABLE camp_payloads (
    ledger INTEGER PRIMARY KEY,
    payload TEXT NOT NULL
);

-- How far each events table has been read (by its integer row key).
CREATE TABLE camp_cursors (
    source TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
);

-- Events that could not be taken, with the reason.
CREATE TABLE camp_quarantine (
    id INTEGER PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    origin TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL
);

-- Deliveries given up on: the last try failed, or the endpoint refused (4xx).
CREATE TABLE camp_dead_letters (
    id INTEGER PRIMARY KEY,
    ledger INTEGER NOT NULL,
    channel TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    payload TEXT,
    reason TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

-- Goal events attributed to an enrollment within the goal's window.
CREATE TABLE camp_conversions (
    enrollment INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    customer TEXT NOT NULL,
    arm TEXT,
    event_ms INTEGER NOT NULL
);
