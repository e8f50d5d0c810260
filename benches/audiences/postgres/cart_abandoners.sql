-- Hand-written: cart in the last 24h, no order in the last 24h. $1 = now.
SELECT c.id FROM customers c
WHERE c.id IN (SELECT e.customer_id FROM events e WHERE e.kind = 'cart_add' AND e.occurred_at > $1::timestamptz - interval '1 day' AND e.occurred_at <= $1::timestamptz)
  AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.ordered_at > $1::timestamptz - interval '1 day' AND o.ordered_at <= $1::timestamptz)
ORDER BY c.id
