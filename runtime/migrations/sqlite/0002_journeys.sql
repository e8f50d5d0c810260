-- Re-entry and expiry. Existing enrollments go on unchanged: `single` is 0
-- for them, so the new unique index holds only enrollments made from now on.

-- 1: this journey must be its customer's only running one of its campaign
-- (every re-entry rule but `after D` and `always`). The index makes a second
-- concurrent enrollment fail even when two daemons enroll at once.
ALTER TABLE camp_enrollments ADD COLUMN single INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX camp_enrollments_single ON camp_enrollments (campaign, customer) WHERE state = 'active' AND single = 1;

-- When the journey was entered: the trigger's time, or the scheduled
-- occurrence (`reentry after D` measures from it).
ALTER TABLE camp_enrollments ADD COLUMN entered_ms INTEGER;

-- The instant after which the send the enrollment waits at is dropped as
-- expired (`send M expires ..`): set when the step first became due and
-- kept while the send is deferred.
ALTER TABLE camp_enrollments ADD COLUMN expires_ms INTEGER;

-- The same deadline on each ledger row, for the fallbacks of that send.
ALTER TABLE camp_ledger ADD COLUMN expires_ms INTEGER;

-- Triggers that started no journey because of the campaign's re-entry
-- rule, with the reason: at most one row per (campaign, customer, occurrence).
CREATE TABLE camp_ignored (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    customer TEXT NOT NULL,
    occurrence TEXT NOT NULL,
    reason TEXT NOT NULL,
    trigger_ms INTEGER,
    created_ms INTEGER NOT NULL,
    UNIQUE (campaign, customer, occurrence)
);
