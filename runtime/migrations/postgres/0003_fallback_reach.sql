-- Fallback and reach (DESIGN §3.3).
--
-- fallback_after_ms: how long after the send the next channel of its chain
-- is tried when no `delivered` receipt has come (channels with receipts);
-- null when the chain ends here or has moved on. The timer itself,
-- fallback_ms, is now started when a channel with receipts accepts the
-- send, or set to now when the send is refused, dead-lettered or reported
-- failed; a channel without receipts counts a successful write as
-- delivered and never falls back for want of one.
ALTER TABLE ledger ADD COLUMN fallback_after_ms BIGINT;

-- repeats: 1 when the row repeats a message that an earlier attempt of its
-- step already sent (a fallback after a send that went out). Caps per kind
-- or on every send count a message once, on its first row that goes out:
-- a fallback after a customer had no contact on the first channel is that
-- first row.
ALTER TABLE ledger ADD COLUMN repeats BIGINT NOT NULL DEFAULT 0;

-- Rows written before: every fallback repeated a send, and a running
-- timer stood for a next channel.
UPDATE ledger SET repeats = 1 WHERE attempt > 0;
UPDATE ledger SET fallback_after_ms = fallback_ms - created_ms WHERE fallback_ms IS NOT NULL;
